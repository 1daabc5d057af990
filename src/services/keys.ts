import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { SCOPES, isScope } from '../domain/scopes.js';
import type { Scope } from '../domain/scopes.js';
import {
  findApiKeyByPublicId,
  findLegacyApiKey,
  insertApiKey,
  listApiKeys,
  lockOperatorKeys,
  listOperatorApiKeys,
  listRevokedOperatorApiKeys,
  rehashApiKey,
  revokeApiKey,
} from '../store/api-keys.js';
import type { ApiKeyRow, ApiKeySecretRow, KeyOrigin } from '../store/api-keys.js';
import type { Queryable } from '../store/db.js';
import { runIdempotently } from './idempotency.js';
import type { CallOptions, ServiceContext } from './context.js';
import { KeyName, numericId, parse } from './schemas.js';

/** An API key as shown: its name, prefix and scopes, never the key. */
export interface ApiKey {
  id: number;
  name: string;
  /** `sr_<public id>`: names the key without revealing any of it (a generated key starts with it) */
  prefix: string;
  /** generated here, or given by the operator (STOCKROOM_ADMIN_KEY) */
  origin: KeyOrigin;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
}

/** A key just created: the one answer that carries the key itself. */
export interface CreatedApiKey extends ApiKey {
  /** the key itself: in the answer to the request that created it only, stored only as a salted hash */
  key: string;
}

/** The answer to a replayed create (same Idempotency-Key, same request): the key made first, without its secret. */
export interface ReplayedApiKey extends ApiKey {
  replayed: true;
}

const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: `sr_${row.public_id}`,
  origin: row.origin,
  scopes: row.scopes,
  created_at: new Date(row.created_at).toISOString(),
  revoked_at: row.revoked_at === null ? null : new Date(row.revoked_at).toISOString(),
});

// the one-shot form: half the CPU of createHash()...digest() and no object per call; it runs on every request
const sha256 = (key: string): string => hash('sha256', key);
const salted = (salt: string, key: string): string => createHmac('sha256', salt).update(key).digest('hex');
const newSalt = (): string => randomBytes(16).toString('hex');
const newPublicId = (): string => randomBytes(6).toString('hex');
/** a generated key: sr_<public id>_<secret>; keys from before this scheme have an 8-character id */
const GENERATED = /^sr_([0-9a-f]+)_/;

/** Whether `key` is the one a row's hash was made from, in constant time. */
function matches(row: ApiKeySecretRow, key: string): boolean {
  const expected = Buffer.from(row.secret_hash, 'hex');
  const actual = Buffer.from(
    row.hash_scheme === 'sha256' || row.salt === null ? sha256(key) : salted(row.salt, key),
    'hex',
  );
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function checkScopes(scopes: readonly string[]): Scope[] {
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw ValidationError.field(
      '/scopes',
      `scopes must be one or more of ${SCOPES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`,
    );
  }
  // a scope named twice is a mistake in what the caller built, told rather than folded away
  const repeated = scopes.find((scope, i) => scopes.indexOf(scope) !== i);
  if (repeated !== undefined) throw ValidationError.field('/scopes', `${repeated} is named twice`);
  return [...scopes] as Scope[];
}

/** How long a process trusts a key it has looked up before asking the database again. */
const KEY_CACHE_MS = 10_000;
/** Keys remembered at most; past it the memory starts afresh (a process serves a handful of clients). */
const KEY_CACHE_SIZE = 10_000;

/**
 * API keys: created with scopes, shown once, kept as HMAC-SHA256 under a per-key salt, found by their public
 * id, revocable by id. A key that authenticated is
 * remembered for `cacheMs`, so a busy client does not cost a query per request: a revocation takes effect at
 * once in the process that made it and within `cacheMs` in the others.
 */
export class KeyService {
  private readonly known = new Map<string, { key: ApiKey; until: number }>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly cacheMs: number = KEY_CACHE_MS,
  ) {}

  /** A new key, with its secret (shown this once). */
  async create(input: { name: string; scopes: readonly string[] }): Promise<CreatedApiKey> {
    const created = await this.createOnce(input);
    if ('replayed' in created) throw new Error('unreachable: a create without an idempotency key was replayed');
    return created;
  }

  /**
   * A new key, at most once per idempotency key. A replay of the same request answers the key created first
   * without its secret (that is stored nowhere but as a hash): nothing new is made, and the caller can revoke it
   * by id if the first answer was lost.
   */
  async createOnce(
    input: { name: string; scopes: readonly string[] },
    options: CallOptions = {},
  ): Promise<CreatedApiKey | ReplayedApiKey> {
    // the name as POST /v1/keys takes it (not blanks only, no control character: it is the ledger's actor of what
    // the key does), kept without the blanks around it
    const name = parse(KeyName, input.name, '/name').trim();
    const scopes = checkScopes(input.scopes);
    const publicId = newPublicId();
    const key = `sr_${publicId}_${randomBytes(24).toString('base64url')}`;
    const salt = newSalt();
    let made: ApiKey | undefined;
    const answer = await runIdempotently(this.ctx, 'key.create', options, { name, scopes }, async (tx) => {
      const row = await insertApiKey(tx, {
        name,
        publicId,
        origin: 'generated',
        salt,
        secretHash: salted(salt, key),
        scopes,
      });
      if (!row) throw new Error('a fresh random key id collided with an existing one');
      made = toApiKey(row);
      return made;
    });
    // ours only if the answer is the row this call inserted: an attempt that ran and was then rolled back and
    // answered as a replay of another call's key must not hand out a secret that was never stored
    return made?.id === answer.id ? { ...answer, key } : { ...answer, replayed: true };
  }

  /**
   * Makes sure a key with this exact value exists (STOCKROOM_ADMIN_KEY); existing keys are left as they are, and
   * a value that was revoked is refused, never made again. Its listing shows a random id, never a character of
   * the key.
   */
  async ensure(key: string, name: string, scopes: readonly Scope[]): Promise<void> {
    if (key.length < 16) throw ValidationError.field('/key', 'a key must be at least 16 characters long');
    await this.ctx.db.transaction(async (tx) => {
      // two servers starting with one STOCKROOM_ADMIN_KEY add it once
      await lockOperatorKeys(tx);
      if (await this.lookup(tx, key)) return;
      const revoked = (await listRevokedOperatorApiKeys(tx, sha256(key))).find((row) => matches(row, key));
      if (revoked)
        throw ValidationError.field(
          '/env/STOCKROOM_ADMIN_KEY',
          `this key was revoked (key id ${revoked.id}): set a new one`,
        );
      const salt = newSalt();
      await insertApiKey(tx, {
        name,
        publicId: newPublicId(),
        origin: 'operator',
        salt,
        secretHash: salted(salt, key),
        scopes,
      });
    });
  }

  /** Every key, live and revoked, oldest first. */
  async list(): Promise<ApiKey[]> {
    return (await listApiKeys(this.ctx.db)).map(toApiKey);
  }

  /** Revokes one key, named by its id (never by a prefix, which two keys may share). */
  async revoke(id: string | number): Promise<ApiKey> {
    const row = await revokeApiKey(this.ctx.db, numericId(id, 'api key'));
    if (!row) throw new NotFoundError('api key', String(id));
    this.known.clear();
    return toApiKey(row);
  }

  /**
   * The live key with this value: a generated one by its public id, then one from before salted hashes by its
   * plain hash (rehashed with a salt on the spot), then the operator's keys one by one.
   */
  private async lookup(db: Queryable, key: string): Promise<ApiKeyRow | undefined> {
    const publicId = GENERATED.exec(key)?.[1];
    const generated = publicId === undefined ? undefined : await findApiKeyByPublicId(db, publicId);
    if (generated && matches(generated, key)) {
      if (generated.hash_scheme === 'sha256') await this.rehash(db, generated.id, key);
      return generated;
    }
    const legacy = await findLegacyApiKey(db, sha256(key));
    if (legacy) {
      await this.rehash(db, legacy.id, key);
      return legacy;
    }
    return (await listOperatorApiKeys(db)).find((row) => matches(row, key));
  }

  private async rehash(db: Queryable, id: number, key: string): Promise<void> {
    const salt = newSalt();
    await rehashApiKey(db, id, salt, salted(salt, key));
  }

  /**
   * The key a request presents if this process checked it within `cacheMs`, at once; undefined when it must be
   * looked up (authenticate). A request with a known key then costs no promise and no microtask.
   */
  remembered(key: string): ApiKey | undefined {
    const cached = this.known.get(sha256(key)); // in this process's memory only
    return cached && cached.until > this.ctx.clock().getTime() ? cached.key : undefined;
  }

  /** The live key a request presents, or undefined. */
  async authenticate(key: string): Promise<ApiKey | undefined> {
    const secretHash = sha256(key); // in this process's memory only
    const now = this.ctx.clock().getTime();
    const cached = this.known.get(secretHash);
    if (cached && cached.until > now) return cached.key;
    const row = await this.lookup(this.ctx.db, key);
    if (!row) {
      this.known.delete(secretHash);
      return undefined;
    }
    if (this.known.size >= KEY_CACHE_SIZE) this.known.clear();
    const found = toApiKey(row);
    if (this.cacheMs > 0) this.known.set(secretHash, { key: found, until: now + this.cacheMs });
    return found;
  }
}

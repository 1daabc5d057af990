import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { SCOPES, isScope } from '../domain/scopes.js';
import type { Scope } from '../domain/scopes.js';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../store/api-keys.js';
import type { ApiKeyRow } from '../store/api-keys.js';
import type { ServiceContext } from './context.js';

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** the key itself: shown once, stored only as a hash */
  key: string;
}

const toApiKey = (k: ApiKeyRow): ApiKey => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  created_at: new Date(k.created_at).toISOString(),
  revoked_at: k.revoked_at === null ? null : new Date(k.revoked_at).toISOString(),
});

const hash = (key: string): string => createHash('sha256').update(key).digest('hex');

function checkScopes(scopes: readonly string[]): Scope[] {
  const unknown = scopes.filter((s) => !isScope(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw ValidationError.field('/scopes', `scopes must be one or more of ${SCOPES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  }
  return [...new Set(scopes)] as Scope[];
}

/** How long a process trusts a key it has looked up before asking the database again. */
export const KEY_CACHE_MS = 10_000;
/** Keys remembered at most; past it the memory starts afresh (a process serves a handful of clients). */
const KEY_CACHE_SIZE = 10_000;

/**
 * API keys: created with scopes, shown once, kept as SHA-256 hashes, revocable. A key that authenticated is
 * remembered for `cacheMs`, so a busy client does not cost a query per request: a revocation takes effect at
 * once in the process that made it and within `cacheMs` in the others.
 */
export class KeyService {
  private readonly known = new Map<string, { key: ApiKey; until: number }>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly cacheMs: number = KEY_CACHE_MS,
  ) {}

  async create(input: { name: string; scopes: readonly string[] }): Promise<CreatedApiKey> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw ValidationError.field('/name', 'a name of 1-100 characters is required');
    const scopes = checkScopes(input.scopes);
    const prefix = randomBytes(4).toString('hex');
    const key = `sr_${prefix}_${randomBytes(24).toString('base64url')}`;
    const row = await insertApiKey(this.ctx.db, { name, prefix, secretHash: hash(key), scopes });
    if (!row) throw new Error('a fresh random key collided with an existing one');
    return { ...toApiKey(row), key };
  }

  /** Makes sure a key with this exact value exists (STOCKROOM_ADMIN_KEY); existing keys are left as they are. */
  async ensure(key: string, name: string, scopes: readonly Scope[]): Promise<void> {
    if (key.length < 16) throw ValidationError.field('/key', 'a key must be at least 16 characters long');
    await insertApiKey(this.ctx.db, { name, prefix: key.slice(0, 8), secretHash: hash(key), scopes });
  }

  async list(): Promise<ApiKey[]> {
    return (await listApiKeys(this.ctx.db)).map(toApiKey);
  }

  async revoke(idOrPrefix: string): Promise<ApiKey> {
    const row = await revokeApiKey(this.ctx.db, idOrPrefix);
    if (!row) throw new NotFoundError('api key', idOrPrefix);
    this.known.clear();
    return toApiKey(row);
  }

  /** The live key a request presents, or undefined. */
  async authenticate(key: string): Promise<ApiKey | undefined> {
    const secretHash = hash(key);
    const now = this.ctx.clock().getTime();
    const cached = this.known.get(secretHash);
    if (cached && cached.until > now) return cached.key;
    const row = await findApiKey(this.ctx.db, secretHash);
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

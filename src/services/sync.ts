import { SIGNATURE_TOLERANCE_SECONDS, checkSignature } from '../domain/signature.js';
import { InvalidSignatureError, NotFoundError, UpstreamError, ValidationError } from '../domain/errors.js';
import {
  advanceSyncSource,
  findSyncSource,
  forgetSignatures,
  rememberSignature,
  upsertSyncSource,
} from '../store/sync-sources.js';
import type { SyncSourceRow } from '../store/sync-sources.js';
import { openOne, sealOne } from '../domain/secret-box.js';
import { redact, secretFragments } from '../domain/secrets.js';
import { runIdempotently } from './idempotency.js';
import type { CallOptions, ServiceContext } from './context.js';
import { PullUrl, PulledBatch, SyncInput, parse, refuseRepeatedLevels, refuseUnstorableText } from './schemas.js';
import type { StockService, SyncResult } from './stock.js';
import { invalidUtf8At } from './utf8.js';
import { duplicateKeyPointer } from './json-keys.js';

/** The header a source signs a pushed batch in, as outgoing webhooks are signed. */
export const SIGNATURE_HEADER = 'x-stockroom-signature';

/** The largest answer a pull reads from a source unless told otherwise (STOCKROOM_SYNC_PULL_MAX_BYTES): 32 MiB. */
export const DEFAULT_PULL_MAX_BYTES = 32 * 1024 * 1024;

/** How pushed batches are checked and pulled ones read. */
export interface SyncOptions {
  /** how far a pushed batch's signed timestamp may be from now, in seconds (default 300) */
  signatureToleranceSeconds?: number | undefined;
  /** the largest answer a pull reads from a source, in bytes (default DEFAULT_PULL_MAX_BYTES) */
  pullMaxBytes?: number | undefined;
}

/** What a pull applied, and where the next one continues. */
export interface PullResult extends SyncResult {
  /** where the next pull continues */
  last_sync_at: string;
}

/** External warehouse systems: signed pushes and cursor-based pulls of absolute on-hand numbers. */
export class SyncService {
  private readonly toleranceSeconds: number;
  private readonly pullMaxBytes: number;

  /** @param secretKey seals source secrets at rest (STOCKROOM_SECRET_KEY); without it they are stored as given */
  constructor(
    private readonly ctx: ServiceContext,
    private readonly stock: StockService,
    options: SyncOptions = {},
    private readonly secretKey?: Buffer,
  ) {
    this.toleranceSeconds = options.signatureToleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
    this.pullMaxBytes = options.pullMaxBytes ?? DEFAULT_PULL_MAX_BYTES;
  }

  /** Registers a source, optionally with the secret its pushes must be signed with. */
  async configureSource(
    name: string,
    secret: string | null,
  ): Promise<{ name: string; signed: boolean; last_sync_at: string | null }> {
    sourceName(name, '/name');
    if (secret !== null && secret.length < 16)
      throw ValidationError.field('/secret', 'a secret must be at least 16 characters long');
    const row = await upsertSyncSource(this.ctx.db, name, {
      plain: this.secretKey ? null : secret,
      sealed: this.secretKey && secret !== null ? sealOne(this.secretKey, secret) : null,
    });
    return {
      name: row.name,
      signed: row.secret !== null || row.secret_sealed !== null,
      last_sync_at: row.last_sync_at && new Date(row.last_sync_at).toISOString(),
    };
  }

  /**
   * A batch pushed by a source (POST /v1/stock/sync). The source must be registered, under exactly this name. One
   * registered with a secret signs each batch as outgoing webhooks are signed (X-Stockroom-Signature:
   * t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">); the timestamp must be within the tolerance, and
   * each signature is taken once: a replay is refused and changes nothing. One registered without a secret
   * takes unsigned batches (the API key still applies); one without a secret that was never so registered (a pull
   * registered it, before migration 0038) is refused as not registered. The signature is remembered in the batch's
   * transaction: a batch that fails can be sent again as it was.
   */
  async push(
    input: SyncInput,
    rawBody: string,
    header: string | undefined,
    options: CallOptions = {},
  ): Promise<SyncResult> {
    const batch = parse(SyncInput, input);
    const source = await findSyncSource(this.ctx.db, batch.source);
    if (!source) throw notRegistered(batch.source, 'register it first: stockroom sync source NAME [--secret S]');
    const now = this.ctx.clock().getTime();
    let signed: { timestamp: number; mac: string } | undefined;
    // a sealed one needs this server's key: without it (or with another) the batch is refused, not taken unsigned
    const secret = source.secret_sealed !== null ? openOne(this.secretKey, source.secret_sealed) : source.secret;
    if (secret !== null) {
      const hint = `source ${source.name} signs its batches: send ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`;
      if (!header) throw new InvalidSignatureError(hint);
      const check = checkSignature(secret, rawBody, header.trim(), Math.floor(now / 1000), this.toleranceSeconds);
      if (!check.ok) {
        const why = {
          malformed: `the signature is not in the expected form; ${hint}`,
          stale: `the signed timestamp is more than ${this.toleranceSeconds} s from now: sign each push when it is sent`,
          mismatch: 'the signature does not match the body',
        };
        throw new InvalidSignatureError(why[check.reason]);
      }
      signed = check;
    } else if (!source.takes_unsigned) {
      throw notRegistered(
        batch.source,
        'it is known only as a pulled source; register it to take its pushes: stockroom sync source NAME [--secret S]',
      );
    }
    return runIdempotently(this.ctx, 'stock.sync', options, batch, async (tx) => {
      if (signed) {
        // forgotten only once no clock reading can take it as fresh: the check counts whole seconds
        await forgetSignatures(tx, new Date((Math.floor(now / 1000) - this.toleranceSeconds) * 1000));
        if (!(await rememberSignature(tx, source.name, signed.mac, new Date(signed.timestamp * 1000)))) {
          throw new InvalidSignatureError(
            'this signed batch was taken before; a replay is refused (sign each push anew)',
          );
        }
      }
      return this.stock.applySync(tx, batch.source, batch.items, options);
    });
  }

  /**
   * What a pull checks before it asks the source: the source's name and URL, and that the source is registered.
   * `sync pull --every` checks it once before its first round: a pull that can never work ends the command, where
   * a round that fails is only reported and tried again.
   */
  async checkPull(url: string, source: string): Promise<void> {
    await this.pullOf(url, source);
  }

  /** checkPull's checks, and what a pull goes on with: the URL to ask and the source as stored. */
  private async pullOf(url: string, source: string): Promise<{ target: URL; registered: SyncSourceRow }> {
    sourceName(source, '/source');
    const target = pullUrl(url);
    const registered = await findSyncSource(this.ctx.db, source);
    if (!registered) throw notRegistered(source, `register it first: stockroom sync source ${source}`);
    return { target, registered };
  }

  /**
   * Asks a source for what changed since the last pull (`URL?changedSince=<last_sync_at>`) and applies it in
   * one transaction together with the new cursor: a batch that fails anywhere leaves stock and cursor as
   * they were. The answer is `{ "items": [{ sku, warehouse, on_hand }], "as_of"? }`; the cursor becomes
   * as_of, or the time the request was sent. The source must be registered, as for a push: a pull never
   * registers one (a source made so had no secret, and took unsigned pushes nobody chose to allow).
   */
  async pull(url: string, source: string, options: CallOptions & { fetch?: typeof fetch } = {}): Promise<PullResult> {
    const { target, registered } = await this.pullOf(url, source);
    const since = registered.last_sync_at;
    if (since) target.searchParams.set('changedSince', new Date(since).toISOString());
    const askedAt = this.ctx.clock();
    let body: unknown;
    try {
      const response = await (options.fetch ?? fetch)(target, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(60_000),
      });
      if (!response.ok) throw new UpstreamError(`${source} answered ${response.status} ${response.statusText}`);
      body = await readJson(response, source, this.pullMaxBytes);
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      // what fetch says may quote the URL, whose query may carry a token: it is masked as a channel's target is
      const said = redact(error instanceof Error ? error.message : String(error), secretFragments([url]));
      throw new UpstreamError(`${source} could not be read: ${said}`);
    }
    const batch = parsePulled(body, source);
    const cursor = batch.as_of ? new Date(batch.as_of) : askedAt;
    return this.ctx.db.transaction(async (tx) => {
      const locked = await findSyncSource(tx, source, true);
      if (!locked) throw notRegistered(source, `register it first: stockroom sync source ${source}`);
      // another puller moved the cursor while we were asking: its batch is newer than ours
      const cursorNow = locked.last_sync_at ? new Date(locked.last_sync_at).getTime() : null;
      if (cursorNow !== (since ? new Date(since).getTime() : null)) {
        throw new UpstreamError(`another pull of ${source} finished first; pull again`);
      }
      const result =
        batch.items.length > 0
          ? await this.stock.applySync(tx, source, batch.items, options)
          : { source, levels: [], shortfalls: [] };
      await advanceSyncSource(tx, source, cursor);
      return { ...result, last_sync_at: cursor.toISOString() };
    });
  }
}

/** A source's name, as `sync source` registers it and a push or pull names it: 1-100 characters. */
function sourceName(name: string, at: string): void {
  refuseUnstorableText(name, at);
  if (name.length === 0 || name.length > 100)
    throw ValidationError.field(at, 'a source name of 1-100 characters is required');
}

/** The refusal of a push or pull naming a source nobody registered: 404, saying how to register it. */
const notRegistered = (name: string, hint: string): NotFoundError => new NotFoundError('sync source', name, hint);

/**
 * The URL a pull asks: an http(s) one with a host. One with a user or password is refused, its value never repeated:
 * fetch sends no credentials from a URL, and refuses such a URL with a message that quotes it whole.
 */
function pullUrl(url: string): URL {
  parse(PullUrl, url, '/url');
  const target = new URL(url);
  if (target.username !== '' || target.password !== '')
    throw ValidationError.field(
      '/url',
      'must not hold a user name or password (user:password@): a pull sends no credentials, and they are not shown',
    );
  return target;
}

/**
 * The answer of a source as JSON, read up to `maxBytes`: past it the rest is not read (a source that sends without
 * end would otherwise be held in memory whole, and then parsed).
 */
async function readJson(response: Response, source: string, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new UpstreamError(`${source} answered with more than ${maxBytes} bytes; nothing was applied`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > maxBytes) {
      // the rest is not read: the connection is dropped with it
      await reader?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  const bytes = Buffer.concat(chunks);
  // decoded anyway, a byte that is not UTF-8 would become U+FFFD in a SKU or a reference, and be applied as such
  const at = invalidUtf8At(bytes);
  if (at !== undefined)
    throw new UpstreamError(`${source} answered with bytes that are not UTF-8 (at offset ${at}); nothing was applied`);
  const text = bytes.toString('utf8');
  const parsed: unknown = JSON.parse(text);
  const twice = duplicateKeyPointer(text);
  if (twice !== undefined)
    throw new UpstreamError(`${source} answered with ${twice} named twice in one object; nothing was applied`);
  return parsed;
}

/**
 * A source's answer, checked as a pushed batch is. What is wrong with it is the source's doing, not the operator's:
 * upstream_failed, its places named as places in the source's answer.
 */
function parsePulled(body: unknown, source: string): PulledBatch {
  try {
    const batch = parse(PulledBatch, body);
    refuseRepeatedLevels(batch.items);
    return batch;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const errors = error.errors.map((field) => ({ path: field.path, message: field.message }));
    const listed = errors.map((field) => `${field.path || '(answer)'}: ${field.message}`).join('; ');
    const message = `${source} answered with a batch that is not valid, at these places in its answer: ${listed}`;
    throw new UpstreamError(message, { upstream_errors: errors });
  }
}

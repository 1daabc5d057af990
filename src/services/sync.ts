import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidSignatureError, UpstreamError, ValidationError } from '../domain/errors.js';
import { advanceSyncSource, findSyncSource, upsertSyncSource } from '../store/sync-sources.js';
import type { CallOptions, ServiceContext } from './context.js';
import { PulledBatch, parse } from './schemas.js';
import type { StockService, SyncResult } from './stock.js';

export const SIGNATURE_HEADER = 'x-stockroom-signature';

/** `sha256=<hex>` of the body under the secret: what a sender puts in X-Stockroom-Signature. */
export const signature = (secret: string, body: string | Buffer): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export interface PullResult extends SyncResult {
  /** where the next pull continues */
  last_sync_at: string;
}

/** External warehouse systems: signed pushes and cursor-based pulls of absolute on-hand numbers. */
export class SyncService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly stock: StockService,
  ) {}

  /** Registers a source, optionally with the secret its pushes must be signed with. */
  async configureSource(name: string, secret: string | null): Promise<{ name: string; signed: boolean; last_sync_at: string | null }> {
    if (name.length === 0 || name.length > 100) throw ValidationError.field('/name', 'a source name of 1-100 characters is required');
    if (secret !== null && secret.length < 16) throw ValidationError.field('/secret', 'a secret must be at least 16 characters long');
    const row = await upsertSyncSource(this.ctx.db, name, secret);
    return { name: row.name, signed: row.secret !== null, last_sync_at: row.last_sync_at && new Date(row.last_sync_at).toISOString() };
  }

  /**
   * Checks a pushed batch's signature over its raw body, when its source has a secret. A source without a
   * secret accepts unsigned batches (the API key still applies).
   */
  async verify(source: string, rawBody: string, header: string | undefined): Promise<void> {
    const row = await findSyncSource(this.ctx.db, source);
    if (!row?.secret) return;
    if (!header) throw new InvalidSignatureError(`source ${source} signs its batches: send ${SIGNATURE_HEADER}: sha256=<hex HMAC of the body>`);
    const expected = Buffer.from(signature(row.secret, rawBody));
    const given = Buffer.from(header.trim());
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new InvalidSignatureError('the signature does not match the body');
  }

  /**
   * Asks a source for what changed since the last pull (`URL?changedSince=<last_sync_at>`) and applies it in
   * one transaction together with the new cursor: a batch that fails anywhere leaves stock and cursor as
   * they were. The answer is `{ "items": [{ sku, warehouse, on_hand }], "as_of"? }`; the cursor becomes
   * as_of, or the time the request was sent.
   */
  async pull(url: string, source: string, options: CallOptions & { fetch?: typeof fetch } = {}): Promise<PullResult> {
    const since = (await findSyncSource(this.ctx.db, source))?.last_sync_at ?? null;
    const target = new URL(url);
    if (since) target.searchParams.set('changedSince', new Date(since).toISOString());
    const askedAt = this.ctx.clock();
    let body: unknown;
    try {
      const res = await (options.fetch ?? fetch)(target, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new UpstreamError(`${source} answered ${res.status} ${res.statusText}`);
      body = await res.json();
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError(`${source} could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    const batch = parse(PulledBatch, body);
    const cursor = batch.as_of ? new Date(batch.as_of) : askedAt;
    return this.ctx.db.transaction(async (tx) => {
      const locked = await findSyncSource(tx, source, true);
      // another puller moved the cursor while we were asking: its batch is newer than ours
      const cursorNow = locked?.last_sync_at ? new Date(locked.last_sync_at).getTime() : null;
      if (cursorNow !== (since ? new Date(since).getTime() : null)) {
        throw new UpstreamError(`another pull of ${source} finished first; pull again`);
      }
      const result = batch.items.length > 0 ? await this.stock.applySync(tx, source, batch.items, options) : { source, levels: [], shortfalls: [] };
      await advanceSyncSource(tx, source, cursor);
      return { ...result, last_sync_at: cursor.toISOString() };
    });
  }
}

import type { Db } from '../store/db.js';
import type { ReadSource, StaleReads } from '../store/replicas.js';

/** What every use case runs against. The clock is injectable so deadlines can be tested without waiting. */
export interface ServiceContext {
  db: Db;
  clock: () => Date;
  /** the ISO 4217 currency every cost is kept in (STOCKROOM_CURRENCY) */
  currency: string;
  /**
   * where reads that may be slightly stale go (storefront availability, admin lists, exports: docs/design.md):
   * the read replicas when DATABASE_REPLICA_URL names some; absent, the primary (db)
   */
  staleReads?: StaleReads | undefined;
}

/** Where a read that may be slightly stale goes: a replica within the lag bound when there are any, else db. */
export const staleReads = (ctx: ServiceContext): ReadSource => ctx.staleReads ?? ctx.db;

/** How old a stale-safe read's answer may be, in ms: 0 without replicas. */
export const staleness = (ctx: ServiceContext): number => ctx.staleReads?.maxStalenessMs ?? 0;

/** Per call: who is acting (recorded on ledger rows) and an optional idempotency key. */
export interface CallOptions {
  actor?: string | undefined;
  idempotencyKey?: string | undefined;
  /** whose key it is (e.g. an API key id): keys of different clients never meet */
  idempotencyScope?: string | undefined;
  /** told when the answer is the stored one of an earlier call with this idempotency key: nothing was done again */
  onReplay?: (() => void) | undefined;
}

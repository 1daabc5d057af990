import type { Db } from '../store/db.js';

/** What every use case runs against. The clock is injectable so deadlines can be tested without waiting. */
export interface ServiceContext {
  db: Db;
  clock: () => Date;
  /** the ISO 4217 currency every cost is kept in (STOCKROOM_CURRENCY) */
  currency: string;
}

/** Per call: who is acting (recorded on ledger rows) and an optional idempotency key. */
export interface CallOptions {
  actor?: string | undefined;
  idempotencyKey?: string | undefined;
  /** whose key it is (e.g. an API key id): keys of different clients never meet */
  idempotencyScope?: string | undefined;
  /** told when the answer is the stored one of an earlier call with this idempotency key: nothing was done again */
  onReplay?: (() => void) | undefined;
}

/**
 * Every advisory lock the schema's code takes, in one place, so that no two meet by accident: two did, the operator
 * key's and the catalog shape's (both 7,406,118,202), so a server adding its STOCKROOM_ADMIN_KEY and a request
 * creating a variant or a warehouse waited for each other. A key must stay the same in every process (and
 * version) that takes it, so one is never renumbered without a reason.
 *
 * These are the one-bigint form. The order_ref locks use the two-integer form, (ORDER_REF_LOCK_SPACE,
 * hashtext(order_ref)): PostgreSQL keeps the two forms apart, so those never meet these.
 */
export const ADVISORY_LOCKS = {
  /** migrations, one process at a time (store/migrate.ts) */
  migration: 7_406_118_201,
  /** new variants (shared) against new warehouses (exclusive): each sees the other (store/catalog.ts) */
  catalogShape: 7_406_118_202,
  /** an operator key (STOCKROOM_ADMIN_KEY) added once by servers starting together (store/api-keys.ts) */
  operatorKey: 7_406_118_203,
  /** outbox dispatchers take turns ("outbox" in ASCII; store/deliveries.ts) */
  outboxDispatch: 0x6f7574626f78,
  /** refreshes of the stock list's sort order take turns ("sorts"; store/stock-list.ts) */
  stockListOrder: 0x736f727473,
  /** refreshes of the planner's statistics take turns ("stats"; store/statistics.ts) */
  statistics: 0x7374617473,
} as const;

/** The first integer of every order_ref lock (store/order-refs.ts). */
export const ORDER_REF_LOCK_SPACE = 14_015;

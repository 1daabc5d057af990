/**
 * deny: never sell below zero available. backorder: sell up to `limit` units short, ship when restocked.
 * preorder: like backorder, for items not yet released, shown with their lead time.
 */
export const BACKORDER_POLICIES = ['deny', 'backorder', 'preorder'] as const;
/** One of BACKORDER_POLICIES: whether and how a variant may be sold beyond its stock. */
export type BackorderPolicy = (typeof BACKORDER_POLICIES)[number];

/** A variant's backorder settings, as the API shows them. */
export interface Backorder {
  policy: BackorderPolicy;
  /** How far below zero available each warehouse may go. */
  limit: number;
  lead_days: number | null;
}

/**
 * How many units a warehouse may promise beyond its stock. A 'deny' variant has none, whatever a stale
 * limit says, so switching a variant to deny closes the door at once.
 */
export function backorderAllowance(backorder: Pick<Backorder, 'policy' | 'limit'>): number {
  return backorder.policy === 'deny' ? 0 : backorder.limit;
}

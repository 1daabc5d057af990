import { findDrift } from '../store/reconcile.js';
import type { DriftRow, HoldDrift, StateDrift } from '../store/reconcile.js';
import type { Queryable } from '../store/db.js';
import type { CostDrift } from '../store/valuation.js';
import type { ServiceContext } from './context.js';

/** What a reconciliation found: whether stock matches its ledger and holds, and where it does not. */
export interface ReconcileReport {
  /** true when every level equals the replay of its ledger and what its open reservations hold */
  clean: boolean;
  levels: number;
  movements: number;
  /** levels that differ from their ledger */
  drift: DriftRow[];
  /** levels whose reserved differs from their open reservation lines */
  holds: HoldDrift[];
  /** levels whose damaged or quality_control differs from their 'state' ledger rows */
  states: StateDrift[];
  /** levels whose value differs from their costed ledger rows (unit cost, migration 0029) */
  costs: CostDrift[];
}

/** Replays the ledger against every level (invariant 2) and the open reservations against reserved. */
export function reconcile(ctx: ServiceContext): Promise<ReconcileReport> {
  return reconcileIn(ctx.db);
}

/** reconcile, run on a transaction the caller holds (`db copy` checks its copy before committing it). */
export async function reconcileIn(db: Queryable): Promise<ReconcileReport> {
  const report = await findDrift(db);
  const clean =
    report.drift.length === 0 && report.holds.length === 0 && report.states.length === 0 && report.costs.length === 0;
  return { clean, ...report };
}

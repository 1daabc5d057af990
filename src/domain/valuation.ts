import { ValidationError } from './errors.js';
import { averageOf, sum } from './money.js';

/** What a valuation report adds its levels up by. */
export const VALUATION_GROUPS = ['warehouse', 'category', 'supplier', 'sku'] as const;
/** One of VALUATION_GROUPS. */
export type ValuationGroup = (typeof VALUATION_GROUPS)[number];

/** Narrows a query's group_by to a ValuationGroup, so an unknown one is refused, not ignored. */
export const isValuationGroup = (value: string): value is ValuationGroup =>
  (VALUATION_GROUPS as readonly string[]).includes(value);

/** A group_by as asked (default: by warehouse), checked. */
export function valuationGroup(value: string | undefined): ValuationGroup {
  if (value === undefined) return 'warehouse';
  if (!isValuationGroup(value))
    throw ValidationError.field('/group_by', `must be one of ${VALUATION_GROUPS.join(', ')}`);
  return value;
}

const MS_PER_DAY = 86_400_000;
/**
 * The last millisecond of 9999, the last a date of the contract names. The end of that day is the first instant of
 * the year 10000, which PGlite's driver writes as `+010000-01-01T...` and PostgreSQL refuses: `until` stops a
 * millisecond short of it (no ledger row is dated in that millisecond).
 */
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The moment a valuation is taken at, as the ledger rows before it: a date (YYYY-MM-DD) means the end of that UTC
 * day, a timestamp that instant (to the millisecond, as the ledger's times are written), none now. `until` is the
 * first instant not counted; `asOf` the last one that is.
 */
export function valuationCutoff(asOf: string | undefined, now: Date): { asOf: Date; until: Date } {
  const until =
    asOf === undefined
      ? now.getTime() + 1
      : /^\d{4}-\d{2}-\d{2}$/.test(asOf)
        ? Date.parse(`${asOf}T00:00:00Z`) + MS_PER_DAY
        : Date.parse(asOf) + 1;
  if (Number.isNaN(until)) throw ValidationError.field('/as_of', 'must be a date (YYYY-MM-DD) or a timestamp');
  return { asOf: new Date(until - 1), until: new Date(Math.min(until, LAST_INSTANT)) };
}

/** Units and their value, in minor units: a level, a group of levels, or all of them. */
export interface Valued {
  on_hand: number;
  /** minor units of the store currency */
  value: number;
  /** units whose cost was never given (stock from before costs were recorded): in on_hand, valued at 0 */
  uncosted_units: number;
}

/** What one unit is worth on average, in whole minor units (half away from zero); null without costed units. */
export function averageCost(valued: Valued): number | null {
  return averageOf(valued.value, valued.on_hand - valued.uncosted_units);
}

/** The sum of several valued groups; refused (money_overflow) past what an amount may hold. */
export function totalOf(groups: readonly Valued[]): Valued {
  return {
    on_hand: groups.reduce((units, group) => units + group.on_hand, 0),
    value: sum(
      groups.map((group) => group.value),
      'the total value',
    ),
    uncosted_units: groups.reduce((units, group) => units + group.uncosted_units, 0),
  };
}

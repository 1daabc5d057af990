import { ValidationError } from '../domain/errors.js';
import { RESERVATION_STATUSES } from '../domain/reservation.js';
import type { ReservationStatus } from '../domain/reservation.js';
import type { Queryable } from '../store/db.js';
import { countReservations, searchReservations } from '../store/reservation-search.js';
import type { ReservationFilter } from '../store/reservation-search.js';
import { readLinesOf, readReservation } from '../store/reservations.js';
import { toReservation } from './dto.js';
import type { Reservation } from './dto.js';
import { variantBySku, warehouseByCode } from './lookups.js';
import type { Page } from './paging.js';
import { pageLimit, pageOf } from './paging.js';
import { Reference, Sku, Timestamp, WarehouseCode, parse } from './schemas.js';

/** Filters and paging of `reservations.list`, as the query string names them; every one left out matches all. */
export interface ReservationQuery {
  /** one of pending, committed, partially_fulfilled, fulfilled, released, expired */
  status?: string | undefined;
  order_ref?: string | undefined;
  /** reservations with a line of this SKU (an unknown SKU is unknown_sku, not an empty list) */
  sku?: string | undefined;
  /** reservations with a line in this warehouse (an unknown one is not_found) */
  warehouse?: string | undefined;
  /** created strictly after this time (ISO 8601) */
  created_after?: string | undefined;
  /** pending ones whose deadline is before this time (ISO 8601) */
  expires_before?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** A page of reservations with how many match in all (counted when the first page was read). */
export interface ReservationPage extends Page<Reservation> {
  /** how many match, counted up to the list's total limit (STOCKROOM_LIST_TOTAL_MAX) */
  total: number;
  /** false when more than `total` match: counting stopped at the limit */
  total_exact: boolean;
}

/** How many matches a list counts at most (STOCKROOM_LIST_TOTAL_MAX): past it, the total says "at least". */
export const DEFAULT_LIST_TOTAL_MAX = 10_000;

/**
 * The cursor of a reservation list: the id of the last reservation shown. The total is counted again on every page
 * (up to the list's limit, through the page's own index): a total carried in the cursor could be forged or carried
 * over to other filters.
 */
const CURSOR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A list query checked, its names resolved: what listReservations reads. */
export interface CheckedReservationQuery {
  filter: ReservationFilter;
  limit: number;
  /** from the cursor: the last reservation shown */
  after?: string | undefined;
}

/** Checks a list query before anything is read or done: malformed values are 400, unknown names 404. */
export async function checkReservationQuery(db: Queryable, query: ReservationQuery): Promise<CheckedReservationQuery> {
  const limit = pageLimit(query.limit);
  const filter = await filterOf(db, query);
  if (query.cursor === undefined) return { filter, limit };
  // a cursor names a reservation this list showed: reservations are never deleted, so one that is not there was
  // never handed out
  if (!CURSOR.test(query.cursor) || !(await readReservation(db, query.cursor)))
    throw ValidationError.field('/cursor', 'not a cursor this endpoint returned');
  return { filter, limit, after: query.cursor };
}

/** Reservations newest first, filtered, paged by keyset, with a total; reads only. */
export async function listReservations(
  db: Queryable,
  query: CheckedReservationQuery,
  totalMax: number = DEFAULT_LIST_TOTAL_MAX,
): Promise<ReservationPage> {
  const { filter, limit, after } = query;
  const rows = await searchReservations(db, filter, { after, limit: limit + 1 });
  const total = totalOf(await countReservations(db, filter, totalMax), totalMax);
  const linesOf = await readLinesOf(
    db,
    rows.slice(0, limit).map((row) => row.id),
  );
  const page = pageOf(
    rows,
    limit,
    (row) => toReservation(row, linesOf.get(row.id) ?? []),
    (row) => row.id,
  );
  return { ...page, ...total };
}

/** A list's total as shown: exact, or the limit when more match. */
type Total = Pick<ReservationPage, 'total' | 'total_exact'>;

const totalOf = (counted: number, max: number): Total => ({
  total: Math.min(counted, max),
  total_exact: counted <= max,
});

/** The query checked and its names resolved to ids; malformed values are 400, unknown names 404. */
async function filterOf(db: Queryable, query: ReservationQuery): Promise<ReservationFilter> {
  const status = query.status;
  if (status !== undefined && !(RESERVATION_STATUSES as readonly string[]).includes(status))
    throw ValidationError.field('/status', `must be one of: ${RESERVATION_STATUSES.join(', ')}`);
  const time = (value: string | undefined, at: string): Date | undefined =>
    value === undefined ? undefined : new Date(parse(Timestamp, value, at));
  const createdAfter = time(query.created_after, '/created_after');
  const expiresBefore = time(query.expires_before, '/expires_before');
  const orderRef = query.order_ref === undefined ? undefined : parse(Reference, query.order_ref, '/order_ref');
  const sku = query.sku === undefined ? undefined : parse(Sku, query.sku, '/sku');
  const warehouse = query.warehouse === undefined ? undefined : parse(WarehouseCode, query.warehouse, '/warehouse');
  return {
    status: status as ReservationStatus | undefined,
    orderRef,
    variantId: sku === undefined ? undefined : (await variantBySku(db, sku)).id,
    warehouseId: warehouse === undefined ? undefined : (await warehouseByCode(db, warehouse)).id,
    createdAfter,
    expiresBefore,
  };
}

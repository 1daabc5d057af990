import { ValidationError } from '../domain/errors.js';

/** One page of a list, and the cursor that asks for the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Rows in a page when the caller does not say. */
const DEFAULT_PAGE = 50;
/** The most rows a page holds, whatever the caller asks: a bound on one query's work. */
export const MAX_PAGE = 500;

/** A page size as asked, within 1..MAX_PAGE (DEFAULT_PAGE when not asked). */
export const pageLimit = (limit: number | undefined): number => Math.min(Math.max(limit ?? DEFAULT_PAGE, 1), MAX_PAGE);

/** A numeric keyset cursor as this API hands them out (an id); anything else is refused. */
export function idCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  // the cursors handed out are plain digits; 0x10 or 1e3 would be read as some other row's
  if (!/^(0|[1-9][0-9]{0,14})$/.test(cursor))
    throw ValidationError.field('/cursor', 'not a cursor this endpoint returned');
  return Number(cursor);
}

/**
 * A page from rows read with one more than `limit`: the extra row only says that there is a next page, whose
 * cursor is the key of the last row shown.
 */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  show: (row: R) => T,
  key: (row: R) => number | string,
): Page<T> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { items: shown.map(show), next_cursor: rows.length > limit && last !== undefined ? String(key(last)) : null };
}

import Type from 'typebox';
import type { TProperties } from 'typebox';
import { ValidationError } from '../../domain/errors.js';
import { IdCursor, PageLimit } from '../../services/schemas.js';

/** The query of a list paged by id: its filters, a cursor and a page size. Anything else is refused. */
export const listQuery = (filters: TProperties) =>
  Type.Object(
    { ...filters, cursor: Type.Optional(IdCursor), limit: Type.Optional(PageLimit) },
    { additionalProperties: false },
  );

/** Reads query-string values, refusing (not ignoring) malformed ones. */
export function pageQuery(query: unknown) {
  const q = (query ?? {}) as Record<string, unknown>;
  const string = (name: string): string | undefined => {
    const v = q[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw ValidationError.field(`/query/${name}`, 'must be given once');
    return v;
  };
  return {
    string,
    all: (name: string): string[] => {
      const v = q[name];
      return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
    },
    limit: (): number | undefined => {
      const v = string('limit');
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 500)
        throw ValidationError.field('/query/limit', 'must be a whole number from 1 to 500');
      return Number(v);
    },
  };
}

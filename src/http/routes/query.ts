import Type from 'typebox';
import type { TArray, TObject, TOptional, TProperties } from 'typebox';
import { ValidationError } from '../../domain/errors.js';
import { MAX_PAGE } from '../../services/paging.js';
import { IdCursor, PageLimit } from '../../services/schemas.js';

/** A query flag: the text true or false (refused as "must be one of: true, false"). */
export const QueryFlag = (options: { description?: string } = {}) => Type.Enum(['true', 'false'], options);

/**
 * Runs a use case whose input is the request's query: its refusals name their places under /query, as the API names
 * every query parameter (the library names them from its input's root).
 */
export async function fromQuery<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ValidationError && !error.errors.some((e) => e.path.startsWith('/query')))
      throw new ValidationError(error.errors.map((e) => ({ ...e, path: `/query${e.path}` })));
    throw error;
  }
}

/** The query of a list paged by id: its filters, a cursor and a page size. Anything else is refused. */
export const listQuery = <Filters extends TProperties>(filters: Filters) =>
  Type.Object(
    { ...filters, cursor: Type.Optional(IdCursor), limit: Type.Optional(PageLimit) },
    { additionalProperties: false },
  );

/** Reads query-string values, refusing (not ignoring) malformed ones. */
export function pageQuery(query: unknown) {
  const given = (query ?? {}) as Record<string, unknown>;
  const string = (name: string): string | undefined => {
    const value = given[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw ValidationError.field(`/query/${name}`, 'must be given once');
    return value;
  };
  return {
    string,
    all: (name: string): string[] => {
      const value = given[name];
      return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
    },
    limit: (): number | undefined => {
      const value = string('limit');
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_PAGE)
        throw ValidationError.field('/query/limit', `must be a whole number from 1 to ${MAX_PAGE}`);
      return Number(value);
    },
  };
}

/** A list query's values as its service takes them: each parameter given once, a repeatable one as a list. */
export type ListValues<Properties extends TProperties> = {
  [Name in keyof Properties]?:
    | (Name extends 'limit' ? number : Properties[Name] extends TArray | TOptional<TArray> ? string[] : string)
    | undefined;
};

/**
 * Reads a list route's query by the parameters its schema names, so a route hands its service what it declares
 * and nothing is named twice: `limit` as a number, an array parameter (?sku=A&sku=B) as a list, the rest as text.
 */
export function listValues<Properties extends TProperties>(
  schema: TObject<Properties>,
  query: unknown,
): ListValues<Properties> {
  const values = pageQuery(query);
  return Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => [
      name,
      name === 'limit'
        ? values.limit()
        : (property as { type?: unknown }).type === 'array'
          ? values.all(name)
          : values.string(name),
    ]),
  ) as ListValues<Properties>;
}

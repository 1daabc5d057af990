/**
 * SQL written so that a prepared statement keeps one generic plan (docs/design.md, "One plan a statement"): a
 * parameter the planner cannot see the value of. Given a short array, the planner costs the statement below its
 * generic plan's guess of ten elements, and the plan cache plans it anew on every call: 0.04-0.4 ms of database
 * CPU for statements that run in 0.01-0.06 (pg_stat_statements; bench/README.md, issue 18).
 */

/** An array parameter rebuilt by a subquery, for `ANY` and `ALL`: as in `<> ALL(${opaqueArray('$1::bigint[]')})`. */
export const opaqueArray = (array: string): string => `ARRAY(SELECT unnest(${array}))`;

/** `ANY(...)` of an array parameter, as in `WHERE id = ${anyOf('$1::uuid[]')}`: a key probe per element. */
export const anyOf = (array: string): string => `ANY(${opaqueArray(array)})`;

/** A parameter read through a subquery, as in `unnest(${opaque('$1::uuid[]')}, ...)` or `<= ${opaque('$2')}`. */
export const opaque = (param: string): string => `(SELECT ${param})`;

/**
 * The oid of the schema a connection works in, for catalog reads (`c.relnamespace = ${CURRENT_SCHEMA}`). Not
 * `current_schema()::regnamespace`: that cast reads the name as SQL would, so a schema named `Shop` or `my-store`
 * is not found (or not a name) and the statement fails.
 */
export const CURRENT_SCHEMA = '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())';

/** A pg_class row (by its alias) that no extension owns: pg_trgm's objects are not stockroom's. */
export const notOfAnExtension = (alias: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = ${alias}.oid AND d.deptype = 'e')`;

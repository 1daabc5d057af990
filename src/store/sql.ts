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

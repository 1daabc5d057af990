/**
 * How a command ended, for scripts. An error's exit code follows its HTTP status (its entry in ERROR_CODES), never
 * its class, so the CLI and the HTTP API sort every refusal the same way:
 *   0 ok          done
 *   1 refused     understood, but the rules or the data say no: 404 (not found, unknown SKU), 409 (insufficient
 *                 stock, invalid transition, stale quantity, already exists, quantity limit), 422 (idempotency key
 *                 reused); also `reconcile` finding drift
 *   2 usage       the command or its input has to change: commander's usage errors, 400 validation_failed and the
 *                 other 4xx (413 payload too large, ...)
 *   3 failure     not the caller's doing: 500 (cannot listen, schema behind, embedded database in use or
 *                 unusable, stored secrets unreadable), 502 upstream failed, and anything that is no
 *                 StockroomError (a bug)
 *   4 unavailable passes by itself, try again later: 503 (database unreachable or busy, at capacity), 429
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, failure: 3, unavailable: 4 } as const;

/** One of the exit codes of EXIT. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a command that ended with an error of this HTTP status. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404 || status === 409 || status === 422) return EXIT.refused;
  if (status === 429 || status === 503) return EXIT.unavailable;
  if (status >= 400 && status < 500) return EXIT.usage;
  return EXIT.failure;
}

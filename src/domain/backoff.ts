/**
 * Milliseconds before try `attempt` + 1, after try `attempt` failed: doubling from `baseMs`, capped, with the
 * upper half jittered (`random` in [0, 1)) so that a receiver or a database coming back up is not hit by every
 * caller at once. Alert deliveries, database reconnects and periodic jobs all wait by it.
 */
export function retryDelayMs(attempt: number, baseMs: number, capMs: number, random: number): number {
  const full = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * random);
}

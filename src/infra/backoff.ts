import { retryDelayMs } from '../domain/backoff.js';

/**
 * A periodic job's pace through failures such as a database outage: after a failure its turns are skipped for
 * a while, doubling from the first wait up to the cap and jittered, so an outage costs a few warnings instead
 * of a failure and a log line every tick; a turn that works resets it.
 */
export class Backoff {
  private failures = 0;
  private until = 0;

  constructor(
    private readonly firstMs: number,
    private readonly capMs = 60_000,
  ) {}

  /** Whether a turn may run now. */
  due(now = Date.now()): boolean {
    return now >= this.until;
  }

  /** A turn worked: the next one runs on time, and the next failure waits the first wait again. */
  succeeded(): void {
    this.failures = 0;
    this.until = 0;
  }

  /** A turn failed: turns are skipped for a growing, jittered wait, which it returns (ms). */
  failed(now = Date.now()): number {
    this.failures++;
    const waitMs = retryDelayMs(this.failures, this.firstMs, this.capMs, Math.random());
    this.until = now + waitMs;
    return waitMs;
  }
}

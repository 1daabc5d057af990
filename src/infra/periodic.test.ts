import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runEvery } from './periodic.js';
import type { PeriodicOptions } from './periodic.js';

/** A job whose turns wait until the test settles them, and what it was told. */
function job(overrides: Partial<PeriodicOptions<number>> = {}) {
  const turns: { resolve: (n: number) => void; reject: (error: Error) => void; signal: AbortSignal }[] = [];
  const told: string[] = [];
  const periodic = runEvery<number>({
    everyMs: 1000,
    atStart: false,
    backoff: false,
    run: (signal) =>
      new Promise<number>((resolve, reject) => {
        turns.push({ resolve, reject, signal });
      }),
    succeeded: (n) => told.push(`ok ${n}`),
    failed: (error) => told.push(`failed ${(error as Error).message}`),
    ...overrides,
  });
  return { periodic, turns, told };
}

describe('a periodic job', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('runs one turn at a time: a turn still running is not joined by another', async () => {
    const { periodic, turns, told } = job();
    await vi.advanceTimersByTimeAsync(1000);
    expect(turns).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(turns).toHaveLength(1);
    turns[0]!.resolve(7);
    await vi.advanceTimersByTimeAsync(1000);
    expect(told).toEqual(['ok 7']);
    expect(turns).toHaveLength(2);
    periodic.stop();
  });

  it('runs at start when asked, never with no interval', async () => {
    const started = job({ atStart: true });
    expect(started.turns).toHaveLength(1);
    started.periodic.stop();
    const never = job({ everyMs: 0, atStart: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(never.turns).toHaveLength(0);
    await never.periodic.idle();
  });

  it('with backoff, skips turns after a failure for a growing wait; a turn that works resets it', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { periodic, turns, told } = job({ backoff: true });
    await vi.advanceTimersByTimeAsync(1000);
    turns[0]!.reject(new Error('database down'));
    // the first failure waits 750 ms (half of 1 s, plus half of that jittered): the next turn is on time
    await vi.advanceTimersByTimeAsync(1000);
    expect(turns).toHaveLength(2);
    turns[1]!.reject(new Error('still down'));
    // the second waits 1.5 s: one turn is skipped
    await vi.advanceTimersByTimeAsync(1000);
    expect(turns).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(turns).toHaveLength(3);
    expect(told).toEqual(['failed database down', 'failed still down']);
    turns[2]!.resolve(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(turns).toHaveLength(4);
    // the success reset it: a failure now waits the first wait again, and the next turn is on time
    turns[3]!.reject(new Error('down again'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(turns).toHaveLength(5);
    periodic.stop();
  });

  it('once stopped runs no turn, aborts the running one, and says when it has ended', async () => {
    const { periodic, turns, told } = job();
    await vi.advanceTimersByTimeAsync(1000);
    periodic.stop();
    expect(turns[0]!.signal.aborted).toBe(true);
    let idle = false;
    const waited = periodic.idle().then(() => {
      idle = true;
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(idle).toBe(false);
    expect(turns).toHaveLength(1);
    turns[0]!.resolve(3);
    await waited;
    expect(told).toEqual(['ok 3']);
  });

  it('takes a report that throws as a failed turn, not an unhandled rejection', async () => {
    const { periodic, turns, told } = job({
      succeeded: () => {
        throw new Error('the log is gone');
      },
    });
    await vi.advanceTimersByTimeAsync(1000);
    turns[0]!.resolve(1);
    await periodic.idle();
    expect(told).toEqual(['failed the log is gone']);
    periodic.stop();
  });
});

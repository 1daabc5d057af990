import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';
import type { Settled } from './group-commit.js';

/** A group runner that records the groups it was given and answers each job with its double. */
function recorder(answer: (job: number) => Settled<number> = (job) => ({ ok: true, value: job * 2 })) {
  const groups: number[][] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  return {
    groups,
    /** holds every group until opened, to collect arrivals while a group runs */
    hold: () => {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => {
      release?.();
      gate = undefined;
    },
    run: async (jobs: readonly number[]): Promise<Settled<number>[]> => {
      groups.push([...jobs]);
      if (gate) await gate;
      return jobs.map(answer);
    },
  };
}

describe('group commit', () => {
  it('runs a lone job at once, in a group of its own', async () => {
    const r = recorder();
    const g = new GroupCommit(r.run, { maxBatch: 10, windowMs: 1000, maxInFlight: 1 });
    expect(await g.submit(21)).toBe(42);
    expect(r.groups).toEqual([[21]]);
  });

  it('collects jobs that arrive while a group is running into the next group, at most maxBatch each', async () => {
    const r = recorder();
    const g = new GroupCommit(r.run, { maxBatch: 3, windowMs: 5, maxInFlight: 1 });
    r.hold();
    const first = g.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [2, 3, 4, 5, 6, 7, 8].map((n) => g.submit(n));
    r.open();
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(r.groups).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
  });

  it('answers each job with its own outcome and runs jobs asked to wait in a later group', async () => {
    const asked = new Set<number>();
    const r = recorder((job) => {
      if (job === 3) return { ok: false, error: new Error('three is refused') };
      if (job === 4 && !asked.has(4)) {
        asked.add(4);
        return { retry: true };
      }
      return { ok: true, value: job * 2 };
    });
    const g = new GroupCommit(r.run, { maxBatch: 10, windowMs: 1, maxInFlight: 1 });
    const outcomes = await Promise.allSettled([1, 3, 4].map((n) => g.submit(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('three is refused') },
      { status: 'fulfilled', value: 8 },
    ]);
    expect(r.groups).toEqual([[1, 3, 4], [4]]);
  });

  it('when a whole group fails, runs each of its jobs alone so only the bad one fails', async () => {
    const groups: number[][] = [];
    const g = new GroupCommit(
      async (jobs: readonly number[]): Promise<Settled<number>[]> => {
        groups.push([...jobs]);
        if (jobs.includes(13)) throw new Error('13 breaks its whole group');
        return jobs.map((j) => ({ ok: true, value: j }));
      },
      { maxBatch: 10, windowMs: 1, maxInFlight: 1 },
    );
    const outcomes = await Promise.allSettled([12, 13, 14].map((n) => g.submit(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(groups).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('runs the jobs of a failed group alone no more at once than maxInFlight', async () => {
    let running = 0;
    let most = 0;
    const g = new GroupCommit(
      async (jobs: readonly number[]): Promise<Settled<number>[]> => {
        if (jobs.length > 1) throw new Error('the whole group fails');
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        return jobs.map((j) => ({ ok: true, value: j }));
      },
      { maxBatch: 250, windowMs: 1, maxInFlight: 4 },
    );
    const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => g.submit(i)));
    expect(answers).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(most).toBe(4);
  });

  it('splits many waiting jobs of different keys over the free slots, in key order and even parts', async () => {
    const r = recorder();
    const g = new GroupCommit(r.run, { maxBatch: 250, windowMs: 1000, maxInFlight: 4 }, (job: number) =>
      String(job % 8),
    );
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => g.submit(i)));
    expect(answers).toEqual(Array.from({ length: 64 }, (_, i) => i * 2));
    // 64 jobs make two groups of 32 (groups are never split below SPLIT_GROUP_MIN), keys 0-3 and 4-7
    expect(r.groups.map((group) => group.length)).toEqual([32, 32]);
    expect(new Set(r.groups[0]?.map((job) => job % 8))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('keeps the jobs of one key in one group (a flash sale of one SKU is not split)', async () => {
    const r = recorder();
    const g = new GroupCommit(r.run, { maxBatch: 250, windowMs: 1000, maxInFlight: 4 }, () => 'HOT-SKU');
    await Promise.all(Array.from({ length: 200 }, (_, i) => g.submit(i)));
    expect(r.groups.map((group) => group.length)).toEqual([200]);
  });

  it("while a group runs, a group's worth of jobs goes at once instead of waiting out the window", async () => {
    const r = recorder();
    const g = new GroupCommit(r.run, { maxBatch: 250, windowMs: 60_000, maxInFlight: 4 }, (job: number) => String(job));
    r.hold();
    const first = g.submit(-1);
    await new Promise((resolve) => setImmediate(resolve));
    const cohort = Array.from({ length: 32 }, (_, i) => g.submit(i));
    // the first group is still held open: the cohort ran beside it, not after a minute's window
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.groups.map((group) => group.length)).toEqual([1, 32]);
    r.open();
    await Promise.all([first, ...cohort]);
  });

  it('never runs more groups at once than maxInFlight', async () => {
    let running = 0;
    let most = 0;
    const g = new GroupCommit(
      async (jobs: readonly number[]): Promise<Settled<number>[]> => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        return jobs.map((j) => ({ ok: true, value: j }));
      },
      { maxBatch: 2, windowMs: 1, maxInFlight: 3 },
    );
    await Promise.all(Array.from({ length: 40 }, (_, i) => g.submit(i)));
    expect(most).toBe(3);
  });
});

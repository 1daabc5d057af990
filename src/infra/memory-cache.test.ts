import { describe, expect, it } from 'vitest';
import { MemoryCache } from './memory-cache.js';

/** A map from SKU to a cached figure, written as pairs on one line. */
const answers = (...pairs: [string, number][]): Map<string, number> => new Map(pairs);

describe('the in-process cache', () => {
  const clock = () => {
    let t = 1_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('answers what was put in until its time to live runs out', () => {
    const c = clock();
    const cache = new MemoryCache<number>(60_000, c.now);
    cache.set(new Map([['A', 1]]), cache.begin());
    expect(cache.get(['A', 'B'])).toEqual(new Map([['A', 1]]));
    c.advance(60_000);
    expect(cache.get(['A']).size).toBe(0);
    expect(cache.stats).toEqual({ hits: 1, misses: 2 });
  });

  it('keeps an answer no longer than the lifetime given with it, and not at all when none is left', () => {
    const c = clock();
    const cache = new MemoryCache<number>(60_000, c.now);
    cache.set(answers(['A', 1], ['B', 2], ['C', 3]), cache.begin(), answers(['A', 10_000], ['B', 0]));
    expect([...cache.get(['A', 'B', 'C']).keys()]).toEqual(['A', 'C']);
    c.advance(9_999);
    expect([...cache.get(['A', 'C']).keys()]).toEqual(['A', 'C']);
    c.advance(1);
    expect([...cache.get(['A', 'C']).keys()]).toEqual(['C']);
  });

  it('forgets a key as soon as it is announced as changed, and everything on "all"', () => {
    const cache = new MemoryCache<number>(60_000);
    cache.set(answers(['A', 1], ['B', 2], ['C', 3]), cache.begin());
    cache.invalidate({ skus: ['A'] });
    expect([...cache.get(['A', 'B', 'C']).keys()]).toEqual(['B', 'C']);
    cache.invalidate({ all: true });
    expect(cache.get(['B', 'C']).size).toBe(0);
  });

  it('never keeps an answer read before a change that landed while the read ran', () => {
    const cache = new MemoryCache<number>(60_000);
    const slow = cache.begin();
    cache.invalidate({ skus: ['A'] }); // the change commits while the read is on its way
    const fresh = cache.begin();
    cache.set(answers(['A', 1], ['B', 2]), slow); // the old answer for A arrives late
    expect([...cache.get(['A', 'B']).keys()]).toEqual(['B']);
    cache.set(new Map([['A', 5]]), fresh); // a read begun after the change may keep its answer
    expect(cache.get(['A'])).toEqual(new Map([['A', 5]]));
    cache.end(slow);
    cache.end(fresh);
  });

  it('keeps nothing read before an "anything changed"', () => {
    const cache = new MemoryCache<number>(60_000);
    const slow = cache.begin();
    cache.invalidate({ all: true });
    cache.set(new Map([['A', 1]]), slow);
    cache.end(slow);
    expect(cache.get(['A']).size).toBe(0);
  });

  it("keeps no replica's answer for a key announced as changed within the look-back before the read began", () => {
    const c = clock();
    const cache = new MemoryCache<number>(60_000, c.now);
    cache.end(cache.begin(1_500)); // from the first look-back on, changes are remembered that long
    cache.invalidate({ skus: ['A'] }); // committed on the primary; a replica may not have replayed it yet
    c.advance(1_000);
    cache.invalidate({ all: true });
    c.advance(600);
    cache.invalidate({ skus: ['B'] });
    c.advance(500);
    // a replica's read as of 1,500 ms ago: B changed since, and so did everything; A changed before
    const replica = cache.begin(1_500);
    cache.set(answers(['A', 1], ['B', 2], ['C', 3]), replica);
    cache.end(replica);
    expect(cache.get(['A', 'B', 'C']).size).toBe(0);
    c.advance(1_001);
    const later = cache.begin(1_500); // B changed 1,501 ms ago: outside the look-back now
    cache.set(answers(['A', 1], ['B', 2], ['C', 3]), later);
    cache.end(later);
    expect([...cache.get(['A', 'B', 'C']).keys()]).toEqual(['A', 'B', 'C']);
  });

  it('remembers only the look-back of a long run of changes, and still finds the first one inside it', () => {
    const c = clock();
    const cache = new MemoryCache<number>(60_000, c.now);
    cache.end(cache.begin(1_000));
    for (let i = 0; i < 5_000; i++) {
      cache.invalidate({ skus: [`S${i}`] }); // one change a millisecond: the forgotten are cut off in bulk
      c.advance(1);
    }
    const replica = cache.begin(1_000);
    cache.set(answers(['S3999', 1], ['S4000', 2], ['S4999', 3]), replica);
    cache.end(replica);
    // S4000 on were announced within the last second; S3999 just before it
    expect([...cache.get(['S3999', 'S4000', 'S4999']).keys()]).toEqual(['S3999']);
  });

  it("keeps a primary's answer for a key that changed before its read began, look-back or not", () => {
    const c = clock();
    const cache = new MemoryCache<number>(60_000, c.now);
    cache.end(cache.begin(1_500)); // a replica read once: the clock now remembers 1,500 ms
    cache.invalidate({ skus: ['A'] });
    c.advance(10);
    const primary = cache.begin();
    cache.set(answers(['A', 1]), primary);
    cache.end(primary);
    expect(cache.get(['A'])).toEqual(answers(['A', 1]));
  });

  it('holds at most its bound, letting the oldest go', () => {
    const cache = new MemoryCache<number>(60_000, Date.now, 2);
    cache.set(answers(['A', 1], ['B', 2], ['C', 3]), cache.begin());
    expect([...cache.get(['A', 'B', 'C']).keys()]).toEqual(['B', 'C']);
  });
});

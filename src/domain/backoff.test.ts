import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

describe('retry delays', () => {
  it('double from the base up to the cap, the upper half jittered', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(30, 1000, 60_000, 0.5)).toBe(45_000);
  });
});

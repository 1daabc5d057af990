import { describe, expect, it } from 'vitest';
import { timeOrderedUuid } from './time-ordered-ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids', () => {
  it('are version 7 UUIDs that sort in the order they were made, many to a millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedUuid());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carry the time they were made in their first 48 bits', () => {
    const before = Date.now();
    const id = timeOrderedUuid();
    const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    // within a millisecond of the clock, or after it if an earlier millisecond's counter ran out (never before)
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('differ in their random part even when made in one millisecond (not guessable from a neighbour)', () => {
    const ids = Array.from({ length: 1000 }, () => timeOrderedUuid());
    const tails = new Set(ids.map((id) => id.slice(-12)));
    expect(tails.size).toBe(ids.length);
  });
});

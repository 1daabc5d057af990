import { describe, expect, it } from 'vitest';
import { demandStats, orderQuantity, suggestLevels } from './replenishment.js';

describe('demand statistics', () => {
  it('average every day of the window, zeros included, with the sample deviation', () => {
    // 7 days: 2,4,4,4,5,5,7 -> mean 31/7 = 4.428571; squared deviations 5.897959 + 3 x 0.183673 + 2 x 0.326531
    // + 6.612245 = 13.714286; / 6 = 2.285714; sqrt 1.511858
    const s = demandStats([2, 4, 4, 4, 5, 5, 7]);
    expect(s.days).toBe(7);
    expect(s.mean).toBeCloseTo(4.428571, 6);
    expect(s.deviation).toBeCloseTo(1.511858, 6);
    expect(demandStats([])).toEqual({ days: 0, mean: 0, deviation: 0 });
    expect(demandStats([3])).toEqual({ days: 1, mean: 3, deviation: 0 });
  });
});

describe('suggested safety stock and reorder point', () => {
  it('are z·σ·√L and d·L + safety stock, rounded up', () => {
    // d = 10/day, σ = 3, L = 4 days, 95%: z = 1.644854, safety = 1.644854 * 3 * 2 = 9.87 -> 10; ROP = 40 + 10 = 50
    expect(suggestLevels({ days: 28, mean: 10, deviation: 3 }, 4, 0.95)).toEqual({
      z: expect.closeTo(1.644854, 6) as unknown,
      safety_stock: 10,
      reorder_point: 50,
    });
    // 97.5%: z = 1.959964, safety = 1.959964 * 3 * 2 = 11.76 -> 12; ROP 52
    expect(suggestLevels({ days: 28, mean: 10, deviation: 3 }, 4, 0.975)).toMatchObject({
      safety_stock: 12,
      reorder_point: 52,
    });
    // no lead time, no buffer needed; no demand, nothing to hold
    expect(suggestLevels({ days: 28, mean: 10, deviation: 3 }, 0, 0.95)).toMatchObject({
      safety_stock: 0,
      reorder_point: 0,
    });
    expect(suggestLevels({ days: 28, mean: 0, deviation: 0 }, 10, 0.99)).toMatchObject({
      safety_stock: 0,
      reorder_point: 0,
    });
  });
});

describe('order quantity', () => {
  it('orders up to reorder point + reorder quantity', () => {
    expect(orderQuantity(20, 20, 50)).toBe(50);
    expect(orderQuantity(5, 20, 50)).toBe(65);
    expect(orderQuantity(-3, 20, 50)).toBe(73); // backorders are owed too
    expect(orderQuantity(8, 10, null)).toBe(12); // reorder quantity defaults to the reorder point
    expect(orderQuantity(0, 0, null)).toBe(1);
  });
});

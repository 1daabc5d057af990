import { describe, expect, it } from 'vitest';
import { planAmendment, planMove, statusAfterChange } from './amendment.js';
import type { ChangeableLine } from './amendment.js';
import { InvalidTransitionError, ValidationError } from './errors.js';

const line = (
  line_no: number,
  sku: string,
  warehouse: string,
  qty: number,
  shipped = 0,
  released = 0,
): ChangeableLine => ({
  line_no,
  sku,
  warehouse,
  qty,
  fulfilled_qty: shipped,
  released_qty: released,
});

describe('planAmendment', () => {
  const lines = [line(1, 'A', 'W1', 5, 2, 1), line(2, 'B', 'W1', 3), line(3, 'B', 'W2', 2)];

  it('resizes a line to its new quantity, counting shipped units and not released ones', () => {
    expect(planAmendment(lines, [{ sku: 'A', qty: 6 }])).toEqual({ resize: [{ line_no: 1, delta: 2 }], add: [] });
    expect(planAmendment(lines, [{ sku: 'A', qty: 2 }])).toEqual({ resize: [{ line_no: 1, delta: -2 }], add: [] });
    expect(planAmendment(lines, [{ sku: 'A', qty: 4 }])).toEqual({ resize: [], add: [] });
  });

  it('refuses to go below what shipped, a split SKU without its warehouse, and a line named twice', () => {
    expect(() => planAmendment(lines, [{ sku: 'A', qty: 1 }])).toThrow(ValidationError);
    expect(() => planAmendment(lines, [{ sku: 'B', qty: 1 }])).toThrow(/B is held in W1, W2: name the warehouse/);
    // a line given back in full (moved away) does not count: the SKU's other line is the one meant
    const moved = [line(1, 'B', 'W1', 3, 0, 3), line(2, 'B', 'W2', 3)];
    expect(planAmendment(moved, [{ sku: 'B', qty: 4 }])).toEqual({ resize: [{ line_no: 2, delta: 1 }], add: [] });
    expect(() =>
      planAmendment(lines, [
        { sku: 'A', qty: 3 },
        { sku: 'A', qty: 4 },
      ]),
    ).toThrow(/named twice/);
  });

  it('adds SKUs (or SKU and warehouse) the reservation does not hold; removing one it does not hold is refused', () => {
    expect(
      planAmendment(lines, [
        { sku: 'C', qty: 2 },
        { sku: 'A', qty: 1, warehouse: 'W2' },
        { sku: 'B', qty: 0, warehouse: 'W2' },
      ]),
    ).toEqual({
      resize: [{ line_no: 3, delta: -2 }],
      add: [
        { index: 0, sku: 'C', qty: 2, warehouse: undefined },
        { index: 1, sku: 'A', qty: 1, warehouse: 'W2' },
      ],
    });
    expect(() => planAmendment(lines, [{ sku: 'C', qty: 0 }])).toThrow(/not on this reservation/);
  });
});

describe('planMove', () => {
  const lines = [line(1, 'A', 'W1', 3), line(2, 'A', 'W2', 2, 1), line(3, 'A', 'W3', 1)];

  it('takes held units from the lines not already there, in line order, or from the one named', () => {
    expect(planMove(lines, { sku: 'A', to: 'W3' })).toEqual([
      { line_no: 1, qty: 3 },
      { line_no: 2, qty: 1 },
    ]);
    expect(planMove(lines, { sku: 'A', qty: 1, from: 'W2', to: 'W1' })).toEqual([{ line_no: 2, qty: 1 }]);
  });

  it('refuses a move to where the units are, of more than is held, and of a settled line', () => {
    expect(() => planMove(lines, { sku: 'A', from: 'W1', to: 'W1' })).toThrow(ValidationError);
    expect(() => planMove(lines, { sku: 'A', qty: 5, to: 'W3' })).toThrow(/exceeds the 4 units/);
    expect(() => planMove([line(1, 'A', 'W1', 2, 2)], { sku: 'A', to: 'W2' })).toThrow(InvalidTransitionError);
  });
});

describe('statusAfterChange', () => {
  it('keeps an open reservation open, partially fulfilled once anything shipped, and closes an empty one', () => {
    expect(statusAfterChange('pending', [line(1, 'A', 'W', 2)], 'fulfilled')).toBe('pending');
    expect(statusAfterChange('fulfilled', [line(1, 'A', 'W', 2)], 'fulfilled')).toBe('committed');
    expect(statusAfterChange('committed', [line(1, 'A', 'W', 2, 1)], 'fulfilled')).toBe('partially_fulfilled');
    expect(statusAfterChange('partially_fulfilled', [line(1, 'A', 'W', 2, 1, 1)], 'fulfilled')).toBe('fulfilled');
    expect(statusAfterChange('partially_fulfilled', [line(1, 'A', 'W', 2, 1, 1)], 'released')).toBe('released');
    expect(statusAfterChange('pending', [line(1, 'A', 'W', 2, 0, 2)], 'fulfilled')).toBe('released');
  });
});

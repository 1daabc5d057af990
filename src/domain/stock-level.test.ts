import { describe, expect, it } from 'vitest';
import { backorderAllowance } from './backorder.js';
import { available, backorderedUnits, shortfall } from './stock-level.js';

describe('stock level arithmetic', () => {
  it('holds back reserved units and safety stock from what may be sold', () => {
    expect(available({ on_hand: 10, reserved: 3, safety_stock: 2, damaged: 0, quality_control: 0 })).toBe(5);
    expect(available({ on_hand: 2, reserved: 3, safety_stock: 0, damaged: 0, quality_control: 0 })).toBe(-1);
  });

  it('holds back damaged units and units in quality control too', () => {
    expect(available({ on_hand: 10, reserved: 3, safety_stock: 2, damaged: 1, quality_control: 2 })).toBe(2);
  });

  it('reports promised units that are not on hand as a shortfall', () => {
    expect(shortfall({ on_hand: 2, reserved: 5 })).toBe(3);
    expect(shortfall({ on_hand: 5, reserved: 5 })).toBe(0);
  });

  it('counts as backordered only the units promised beyond stock, never more than were promised', () => {
    expect(backorderedUnits(3, 5)).toBe(0);
    expect(backorderedUnits(3, 0)).toBe(0);
    expect(backorderedUnits(4, -2)).toBe(2);
    expect(backorderedUnits(4, -4)).toBe(4);
    // a level already short before: all of this promise is beyond stock, not the older shortage too
    expect(backorderedUnits(3, -7)).toBe(3);
  });

  it('gives a deny variant no backorder allowance whatever its limit says', () => {
    expect(backorderAllowance({ policy: 'deny', limit: 10 })).toBe(0);
    expect(backorderAllowance({ policy: 'preorder', limit: 10 })).toBe(10);
  });
});

import { describe, expect, it } from 'vitest';
import { pastVariantLimits, variantHeadroom } from './variant-limits.js';

const level = (on_hand: number, reserved: number) => ({
  on_hand,
  reserved,
  safety_stock: 0,
  damaged: 0,
  quality_control: 0,
});

describe('variantHeadroom', () => {
  it('holds the safety stock back once, from the sum over warehouses', () => {
    expect(variantHeadroom([level(5, 0), level(5, 0)], { safety_stock: 4, backorder_allowance: 0 })).toBe(6);
  });

  it('lets the sum go as far below zero as the backorder allowance, counting what is already short', () => {
    expect(variantHeadroom([level(2, 0), level(0, 3)], { safety_stock: 0, backorder_allowance: 5 })).toBe(4);
    expect(variantHeadroom([level(0, 9)], { safety_stock: 0, backorder_allowance: 5 })).toBe(0);
  });
});

describe('pastVariantLimits', () => {
  it('is true only once the sum is below the limits, not when it is at them', () => {
    const limits = { safety_stock: 2, backorder_allowance: 1 };
    expect(pastVariantLimits([level(2, 1), level(0, 0)], limits)).toBe(false);
    expect(pastVariantLimits([level(2, 2), level(0, 0)], limits)).toBe(true);
  });
});

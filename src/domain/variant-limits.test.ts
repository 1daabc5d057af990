import { describe, expect, it } from 'vitest';
import { variantHeadroom } from './variant-limits.js';

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

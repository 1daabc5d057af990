import { describe, expect, it } from 'vitest';
import { moveState, unitsIn } from './stock-state.js';
import { available } from './stock-level.js';

const level = { on_hand: 10, reserved: 3, safety_stock: 1, damaged: 2, quality_control: 1 };

describe('stock states', () => {
  it('leave available as on hand less reserved, safety stock, damaged and quality control', () => {
    expect(available(level)).toBe(3);
  });

  it('move units out of available into a state and back', () => {
    expect(moveState(level, 'available', 'damaged', 3)).toEqual({ damaged: 5, quality_control: 1, safety_stock: 1 });
    expect(moveState(level, 'damaged', 'available', 2)).toEqual({ damaged: 0, quality_control: 1, safety_stock: 1 });
    expect(moveState(level, 'quality_control', 'safety_stock', 1)).toEqual({
      damaged: 2,
      quality_control: 0,
      safety_stock: 2,
    });
  });

  it('never take more than the source state holds, nor reserved units out of available', () => {
    expect(moveState(level, 'available', 'damaged', 4)).toBeUndefined();
    expect(moveState(level, 'damaged', 'quality_control', 3)).toBeUndefined();
    expect(moveState(level, 'damaged', 'damaged', 1)).toBeUndefined();
  });

  it('count no available units at a level sold short', () => {
    expect(unitsIn({ ...level, reserved: 20 }, 'available')).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { parseStockChange } from './stock-change.js';

describe('reading a stock change announcement', () => {
  it('names the SKUs listed, one per line (a SKU may hold a comma, never whitespace)', () => {
    expect(parseStockChange('TEE-M\nA,B\nТЕЕ-黒')).toEqual({ skus: ['TEE-M', 'A,B', 'ТЕЕ-黒'] });
  });

  it('takes "*", or nothing, as "anything may have changed"', () => {
    expect(parseStockChange('*')).toEqual({ all: true });
    expect(parseStockChange('')).toEqual({ all: true });
  });
});

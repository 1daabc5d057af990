import { describe, expect, it } from 'vitest';
import { parseStockChange } from './stock-changes.js';

describe('reading a stock change announcement', () => {
  it('names the variants listed', () => {
    expect(parseStockChange('12,7,300')).toEqual({ variantIds: [12, 7, 300] });
  });

  it('takes "*", or anything it cannot read, as "anything may have changed"', () => {
    expect(parseStockChange('*')).toEqual({ all: true });
    expect(parseStockChange('')).toEqual({ all: true });
    expect(parseStockChange('12,x')).toEqual({ all: true });
  });
});

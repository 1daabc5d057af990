import { describe, expect, it } from 'vitest';
import { ORDER_MARKER_PREFIX, parseStockChange, withoutMarkers } from './stock-change.js';

describe('reading a stock change announcement', () => {
  it('names the SKUs listed, one per line (a SKU may hold a comma, never whitespace)', () => {
    expect(parseStockChange('TEE-M\nA,B\nТЕЕ-黒')).toEqual({ skus: ['TEE-M', 'A,B', 'ТЕЕ-黒'] });
  });

  it('takes "*", or nothing, as "anything may have changed"', () => {
    expect(parseStockChange('*')).toEqual({ all: true });
    expect(parseStockChange('')).toEqual({ all: true });
  });
});

describe("leaving the stock list's markers out of a change", () => {
  const marker = `${ORDER_MARKER_PREFIX}6f1c0a52-9d0c-4a43-8a7e-1f6c2c8f7d11`;

  it('keeps the SKUs heard with a marker, and nothing of a change that was only a marker', () => {
    expect(withoutMarkers({ skus: ['TEE-M', marker, 'TEE-L'] })).toEqual({ skus: ['TEE-M', 'TEE-L'] });
    expect(withoutMarkers({ skus: [marker] })).toBeUndefined();
  });

  it('passes a change without markers, and "anything may have changed", as they are', () => {
    const change = { skus: ['TEE-M'] };
    expect(withoutMarkers(change)).toBe(change);
    expect(withoutMarkers({ all: true })).toEqual({ all: true });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SORT_ORDERS, STOCK_SORT_FIELDS, decodeStockCursor, encodeStockCursor } from './stock-list.js';
import type { StockKey } from './stock-list.js';

const keys = fc
  .record({
    sort: fc.constantFrom(...STOCK_SORT_FIELDS),
    order: fc.constantFrom(...SORT_ORDERS),
    variantId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    warehouseId: fc.integer({ min: 1, max: 2 ** 31 }),
    sku: fc.string({ minLength: 1, maxLength: 64 }).filter((text) => !text.includes('\u0000')),
    number: fc.integer({ min: -10_000_000, max: 10_000_000 }),
  })
  .map(({ sku, number, ...key }): StockKey => ({ ...key, value: key.sort === 'sku' ? sku : number }));

describe('the stock list cursor', () => {
  it('gives back the key it carries, for the sort and order it was made in', () => {
    fc.assert(
      fc.property(keys, (key) => {
        const cursor = encodeStockCursor(key);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeStockCursor(cursor, key.sort, key.order)).toEqual(key);
      }),
    );
  });

  it('is refused for another sort or order', () => {
    fc.assert(
      fc.property(keys, fc.constantFrom(...STOCK_SORT_FIELDS), fc.constantFrom(...SORT_ORDERS), (key, sort, order) => {
        fc.pre(sort !== key.sort || order !== key.order);
        expect(decodeStockCursor(encodeStockCursor(key), sort, order)).toBeUndefined();
      }),
    );
  });

  it('is refused when it is not one this list made', () => {
    const made = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const refused: [string, StockKey['sort']][] = [
      ['', 'sku'],
      ['not a cursor', 'sku'],
      ['!!!!', 'sku'],
      ['a'.repeat(401), 'sku'],
      [made(['sku', 'asc', 'A', 1]), 'sku'],
      [made(['sku', 'asc', 1, 1, 1]), 'sku'],
      [made(['sku', 'asc', '', 1, 1]), 'sku'],
      [made(['sku', 'asc', 'A\u0000', 1, 1]), 'sku'],
      [made(['sku', 'asc', 'A\ud800', 1, 1]), 'sku'],
      [made(['sku', 'asc', '\udc00', 1, 1]), 'sku'],
      [Buffer.from('["sku","asc","caf\xe9",1,1]', 'latin1').toString('base64url'), 'sku'],
      [made(['on_hand', 'asc', 'A', 1, 1]), 'on_hand'],
      [made(['on_hand', 'asc', 1.5, 1, 1]), 'on_hand'],
      [made(['on_hand', 'asc', 1, 0, 1]), 'on_hand'],
      [made(['on_hand', 'asc', 1, 1, -1]), 'on_hand'],
      [made(['on_hand', 'asc', 1, '1', 1]), 'on_hand'],
      // past a 32-bit quantity: no level holds it (the database would refuse to compare it)
      [made(['available', 'asc', 2 ** 31, 1, 1]), 'available'],
      [made(['committed', 'asc', -(2 ** 31) - 1, 1, 1]), 'committed'],
      [made({ sort: 'on_hand' }), 'on_hand'],
      [Buffer.from('{not json').toString('base64url'), 'on_hand'],
    ];
    for (const [cursor, sort] of refused) expect(decodeStockCursor(cursor, sort, 'asc'), cursor).toBeUndefined();
    expect(decodeStockCursor(made(['sku', 'asc', 'A', 1, 1]), 'sku', 'asc')).toBeDefined();
    expect(decodeStockCursor(made(['sku', 'asc', 'TEE-\u{1F455}', 1, 1]), 'sku', 'asc')).toBeDefined();
    expect(decodeStockCursor(made(['on_hand', 'asc', 1, 1, 1]), 'on_hand', 'asc')).toBeDefined();
    expect(decodeStockCursor(made(['available', 'asc', -(2 ** 31), 1, 1]), 'available', 'asc')).toBeDefined();
  });
});

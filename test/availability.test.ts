import { describe, expect, it } from 'vitest';
import { UnknownSkuError, ValidationError } from '../src/domain/errors.js';
import { drivers } from './support/databases.js';
import { useStockroom, world } from './support/harness.js';

describe.each(drivers())('storefront availability on %s', (driver) => {
  const h = useStockroom(driver);

  it('tells each SKU as a status and a label, from what is sellable across warehouses', async () => {
    const plenty = await world(h.s, [6, 4], { low_stock_threshold: 5 });
    const few = await world(h.s, [2, 1], { low_stock_threshold: 5, safety_stock: 0 });
    const none = await world(h.s, [0]);
    const { items } = await h.s.availability.get({ sku: [plenty.sku, few.sku, none.sku] });
    expect(items).toEqual([
      { sku: plenty.sku, available: 10, status: 'in_stock', label: 'In stock' },
      { sku: few.sku, available: 3, status: 'low_stock', label: 'Only 3 left' },
      { sku: none.sku, available: 0, status: 'out_of_stock', label: 'Out of stock' },
    ]);
  });

  it('follows reservations, releases and safety stock at once (nothing is cached yet)', async () => {
    const { sku } = await world(h.s, [5], { low_stock_threshold: 2, safety_stock: 1 });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 4, status: 'in_stock' });
    const r = await h.s.reservations.reserve({ order_ref: 'shopper', lines: [{ sku, qty: 3 }] });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 1, status: 'low_stock', label: 'Only 1 left' });
    await h.s.reservations.reserve({ order_ref: 'last', lines: [{ sku, qty: 1 }] });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 0, status: 'out_of_stock' });
    await h.s.reservations.release(r.id);
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 3, status: 'in_stock' });
  });

  it('offers a pre-order past zero, each warehouse within its own limit', async () => {
    const { sku } = await world(h.s, [0], { backorder: { policy: 'preorder', limit: 5, lead_days: 14 } });
    const warehouses = (await h.s.catalog.listWarehouses()).length;
    await h.s.reservations.reserve({ order_ref: 'early bird', lines: [{ sku, qty: 2 }] });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toEqual({
      sku,
      available: 5 * warehouses - 2,
      status: 'preorder',
      label: 'Pre-order, ships in 14-16 days',
    });
  });

  it('answers each SKU once, in the order asked, and refuses unknown SKUs and too many at once', async () => {
    const a = await world(h.s, [1]);
    const b = await world(h.s, [9]);
    expect((await h.s.availability.get({ sku: [b.sku, a.sku, b.sku] })).items.map((i) => i.sku)).toEqual([b.sku, a.sku]);
    await expect(h.s.availability.get({ sku: [a.sku, 'NO-SUCH-SKU'] })).rejects.toThrow(UnknownSkuError);
    await expect(h.s.availability.get({ sku: [] })).rejects.toThrow(ValidationError);
    await expect(h.s.availability.get({ sku: Array.from({ length: 101 }, (_, i) => `S-${i}`) })).rejects.toThrow(ValidationError);
  });
});

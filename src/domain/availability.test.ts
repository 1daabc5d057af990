import { describe, expect, it } from 'vitest';
import { availabilityOf, untrackedAvailability } from './availability.js';
import type { AvailabilityInput } from './availability.js';

const level = (on_hand: number, reserved = 0, safety_stock = 0) => ({
  on_hand,
  reserved,
  safety_stock,
  damaged: 0,
  quality_control: 0,
});
const deny = { policy: 'deny' as const, limit: 0, lead_days: null };
const of = (levels: AvailabilityInput['levels'], more: Partial<AvailabilityInput> = {}) =>
  availabilityOf({ levels, low_stock_threshold: 3, backorder: deny, ...more });

describe('storefront availability', () => {
  it('is in stock above the low-stock threshold', () => {
    expect(of([level(4)])).toEqual({ available: 4, status: 'in_stock', label: 'In stock' });
  });

  it('is low at the threshold and down to one unit, saying how many are left', () => {
    expect(of([level(3)])).toEqual({ available: 3, status: 'low_stock', label: 'Only 3 left' });
    expect(of([level(1)])).toEqual({ available: 1, status: 'low_stock', label: 'Only 1 left' });
  });

  it('with a threshold of zero, any unit is simply in stock', () => {
    expect(of([level(1)], { low_stock_threshold: 0 })).toMatchObject({ status: 'in_stock' });
  });

  it('is out of stock at zero', () => {
    expect(of([level(0)])).toEqual({ available: 0, status: 'out_of_stock', label: 'Out of stock' });
    expect(of([])).toMatchObject({ status: 'out_of_stock' });
  });

  it('holds the safety stock back, and counts what is reserved as gone', () => {
    expect(of([level(10, 4, 2)])).toMatchObject({ available: 4, status: 'in_stock' });
    expect(of([level(10, 5, 2)])).toMatchObject({ available: 3, status: 'low_stock' });
    expect(of([level(10, 6, 4)])).toMatchObject({ available: 0, status: 'out_of_stock' });
  });

  it('adds warehouses up, a short one counting as none rather than taking from the others', () => {
    expect(of([level(2), level(3)])).toMatchObject({ available: 5, status: 'in_stock' });
    expect(of([level(2, 5), level(3)])).toMatchObject({ available: 3, status: 'low_stock' });
  });

  it('offers a pre-order past zero while the limit allows, with the lead time as a shipping window', () => {
    const preorder = { policy: 'preorder' as const, limit: 10, lead_days: 5 };
    expect(of([level(0)], { backorder: preorder })).toEqual({
      available: 10,
      status: 'preorder',
      label: 'Pre-order, ships in 5-7 days',
    });
    expect(of([level(0, 7)], { backorder: preorder })).toMatchObject({ available: 3, status: 'preorder' });
    expect(of([level(0)], { backorder: { ...preorder, lead_days: null } })).toMatchObject({ label: 'Pre-order' });
  });

  it('takes the expected date of an incoming purchase order over the lead time', () => {
    const preorder = { policy: 'preorder' as const, limit: 10, lead_days: 30 };
    expect(of([level(0)], { backorder: preorder, incoming_in_days: 2 })).toMatchObject({
      label: 'Pre-order, ships in 2-4 days',
    });
    expect(of([level(0)], { backorder: preorder, incoming_in_days: -1 })).toMatchObject({
      label: 'Pre-order, ships in 0-2 days',
    });
  });

  it('is out of stock once a pre-order or backorder limit is used up', () => {
    const backorder = { policy: 'backorder' as const, limit: 4, lead_days: 3 };
    expect(of([level(0, 3)], { backorder })).toEqual({
      available: 1,
      status: 'backorder',
      label: 'Backorder, ships in 3-5 days',
    });
    expect(of([level(0, 4)], { backorder })).toEqual({ available: 0, status: 'out_of_stock', label: 'Out of stock' });
    expect(of([level(0, 4), level(0, 1)], { backorder })).toMatchObject({ available: 3, status: 'backorder' });
  });

  it('shows units in stock before offering a backorder', () => {
    const backorder = { policy: 'backorder' as const, limit: 4, lead_days: 3 };
    expect(of([level(2)], { backorder })).toMatchObject({ available: 2, status: 'low_stock' });
  });

  it('never offers a backorder for a deny variant, whatever limit it once had', () => {
    expect(of([level(0)], { backorder: { policy: 'deny', limit: 9, lead_days: 3 } })).toMatchObject({
      status: 'out_of_stock',
    });
  });
});

describe('availability of variant-wide and untracked variants', () => {
  const base = { low_stock_threshold: 1, backorder: { policy: 'deny', limit: 0, lead_days: null } } as const;

  it('bounds what a variant-wide variant offers by its sum over every warehouse, less its safety stock', () => {
    const all = [level(5), level(5)];
    expect(availabilityOf({ ...base, levels: all, variant_wide: { levels: all, safety_stock: 4 } })).toMatchObject({
      available: 6,
      status: 'in_stock',
    });
    // the shopper is served by one warehouse only: its 5, within the 6 the sum allows
    expect(
      availabilityOf({ ...base, levels: [level(5)], variant_wide: { levels: all, safety_stock: 4 } }).available,
    ).toBe(5);
    const backorder = { policy: 'backorder', limit: 3, lead_days: null } as const;
    const empty = [level(0), level(0, 1)];
    expect(
      availabilityOf({ ...base, backorder, levels: empty, variant_wide: { levels: empty, safety_stock: 0 } }),
    ).toMatchObject({ available: 2, status: 'backorder' });
  });

  it('shows an untracked variant in stock wherever a warehouse serves the shopper', () => {
    expect(untrackedAvailability(2, 1000)).toEqual({ available: 1000, status: 'in_stock', label: 'In stock' });
    expect(untrackedAvailability(0, 1000)).toMatchObject({ available: 0, status: 'out_of_stock' });
  });
});

import { describe, expect, it } from 'vitest';
import { allocate, distanceKm, routingOrder, totalReservable } from './routing.js';
import type { RoutingCandidate } from './routing.js';

const wh = (
  warehouse: string,
  available: number,
  priority = 0,
  extra: Partial<RoutingCandidate> = {},
): RoutingCandidate => ({
  warehouse,
  available,
  priority,
  backorder_allowance: 0,
  ...extra,
});

describe('allocate', () => {
  it('serves a line from the highest-priority warehouse that has all of it', () => {
    expect(allocate(3, [wh('A', 10, 1), wh('B', 50, 2)])).toEqual([{ warehouse: 'B', qty: 3, backordered: 0 }]);
    expect(allocate(3, [wh('A', 10, 1), wh('B', 2, 2)])).toEqual([{ warehouse: 'A', qty: 3, backordered: 0 }]);
  });

  it('prefers the warehouse with most available among equal priorities', () => {
    expect(allocate(3, [wh('A', 5), wh('B', 9), wh('C', 7)])).toEqual([{ warehouse: 'B', qty: 3, backordered: 0 }]);
  });

  it('splits a line across warehouses only when no single one has enough', () => {
    expect(allocate(10, [wh('A', 6, 2), wh('B', 3, 1), wh('C', 5, 0)])).toEqual([
      { warehouse: 'A', qty: 6, backordered: 0 },
      { warehouse: 'B', qty: 3, backordered: 0 },
      { warehouse: 'C', qty: 1, backordered: 0 },
    ]);
  });

  it('refuses what the warehouses cannot cover together', () => {
    expect(allocate(10, [wh('A', 6), wh('B', 3)])).toBeNull();
    expect(allocate(1, [])).toBeNull();
  });

  it('never takes from a warehouse that is already short', () => {
    expect(allocate(2, [wh('A', -4, 5), wh('B', 2, 0)])).toEqual([{ warehouse: 'B', qty: 2, backordered: 0 }]);
  });

  it('keeps to the requested warehouse', () => {
    expect(allocate(3, [wh('A', 10, 9), wh('B', 3)], { warehouse: 'B' })).toEqual([
      { warehouse: 'B', qty: 3, backordered: 0 },
    ]);
    expect(allocate(4, [wh('A', 10, 9), wh('B', 3)], { warehouse: 'B' })).toBeNull();
  });

  it('sells short within the backorder allowance only after all stock is used', () => {
    const stocks = [wh('A', 2, 1, { backorder_allowance: 5 }), wh('B', 1, 0, { backorder_allowance: 5 })];
    expect(allocate(6, stocks)).toEqual([
      { warehouse: 'A', qty: 5, backordered: 3 },
      { warehouse: 'B', qty: 1, backordered: 0 },
    ]);
  });

  it('counts earlier backorders against the allowance', () => {
    const stocks = [wh('A', -3, 0, { backorder_allowance: 5 })];
    expect(allocate(2, stocks)).toEqual([{ warehouse: 'A', qty: 2, backordered: 2 }]);
    expect(allocate(3, stocks)).toBeNull();
    expect(totalReservable(stocks)).toBe(2);
  });
});

describe('routingOrder', () => {
  it('puts nearer warehouses first among equal priorities when a ship-to point is given', () => {
    const amsterdam = wh('AMS', 1, 0, { lat: 52.37, lon: 4.9 });
    const berlin = wh('BER', 9, 0, { lat: 52.52, lon: 13.4 });
    expect(routingOrder([amsterdam, berlin]).map((s) => s.warehouse)).toEqual(['BER', 'AMS']);
    expect(routingOrder([amsterdam, berlin], { lat: 51.92, lon: 4.48 }).map((s) => s.warehouse)).toEqual([
      'AMS',
      'BER',
    ]);
  });

  it('measures great-circle distance', () => {
    expect(distanceKm({ lat: 52.37, lon: 4.9 }, { lat: 52.52, lon: 13.4 })).toBeCloseTo(577, -1);
  });
});

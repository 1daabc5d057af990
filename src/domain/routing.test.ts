import { describe, expect, it } from 'vitest';
import { allocate, distanceKm, routeOrder, routingOrder, totalReservable } from './routing.js';
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

describe('allocation strategies', () => {
  const amsterdam = { lat: 52.37, lon: 4.9 };
  const rotterdam = { lat: 51.92, lon: 4.48 };
  const berlin = { lat: 52.52, lon: 13.4 };

  it('most_available takes the warehouse with most available, whatever the priorities', () => {
    const stocks = [wh('A', 5, 9), wh('B', 40, 0), wh('C', 20, 5)];
    expect(allocate(3, stocks, { strategy: 'most_available' })).toEqual([{ warehouse: 'B', qty: 3, backordered: 0 }]);
    expect(allocate(50, stocks, { strategy: 'most_available' })).toEqual([
      { warehouse: 'B', qty: 40, backordered: 0 },
      { warehouse: 'C', qty: 10, backordered: 0 },
    ]);
  });

  it('nearest takes the nearest warehouse that has the line, those without a location last', () => {
    const stocks = [
      wh('BER', 10, 9, berlin),
      wh('AMS', 10, 0, amsterdam),
      wh('NOWHERE', 10, 99),
      wh('AMS2', 1, 0, { lat: 52.38, lon: 4.9 }),
    ];
    expect(allocate(2, stocks, { strategy: 'nearest', ship_to: rotterdam })).toEqual([
      { warehouse: 'AMS', qty: 2, backordered: 0 },
    ]);
    expect(routingOrder(stocks, rotterdam, 'nearest').map((s) => s.warehouse)).toEqual([
      'AMS',
      'AMS2',
      'BER',
      'NOWHERE',
    ]);
    expect(allocate(25, stocks, { strategy: 'nearest', ship_to: rotterdam })).toEqual([
      { warehouse: 'AMS', qty: 10, backordered: 0 },
      { warehouse: 'AMS2', qty: 1, backordered: 0 },
      { warehouse: 'BER', qty: 10, backordered: 0 },
      { warehouse: 'NOWHERE', qty: 4, backordered: 0 },
    ]);
  });

  it('split: false takes the whole line from one warehouse, or refuses it', () => {
    const stocks = [wh('A', 6, 2), wh('B', 5, 1)];
    expect(allocate(6, stocks, { split: false })).toEqual([{ warehouse: 'A', qty: 6, backordered: 0 }]);
    expect(allocate(10, stocks, { split: false })).toBeNull();
    expect(allocate(10, stocks)).toHaveLength(2);
    const short = [wh('A', 2, 1, { backorder_allowance: 3 }), wh('B', 4, 0, { backorder_allowance: 9 })];
    expect(allocate(8, short, { split: false })).toEqual([{ warehouse: 'B', qty: 8, backordered: 4 }]);
  });
});

describe('routeOrder', () => {
  it('routes each line on its own under every strategy but fewest_shipments', () => {
    const lines = [
      { qty: 2, candidates: [wh('A', 5, 2), wh('B', 5, 1)] },
      { qty: 2, candidates: [wh('A', 0, 2), wh('B', 5, 1)] },
    ];
    expect(routeOrder(lines).map((allocation) => allocation?.map((part) => part.warehouse))).toEqual([['A'], ['B']]);
  });

  it('fewest_shipments sends the whole order from the fewest warehouses, ties by priority', () => {
    const lines = [
      { qty: 2, candidates: [wh('A', 5, 3), wh('B', 5, 1), wh('C', 5, 2)] },
      { qty: 2, candidates: [wh('A', 0, 3), wh('B', 5, 1), wh('C', 5, 2)] },
    ];
    // B and C each have both lines; C ranks higher
    expect(
      routeOrder(lines, { strategy: 'fewest_shipments' }).map((allocation) =>
        allocation?.map((part) => part.warehouse),
      ),
    ).toEqual([['C'], ['C']]);
  });

  it('fewest_shipments covers the order with two warehouses when no one has it all, splitting within them', () => {
    const lines = [
      { qty: 4, candidates: [wh('A', 3, 5), wh('B', 1, 4), wh('C', 4, 0)] },
      { qty: 1, candidates: [wh('A', 0, 5), wh('B', 1, 4), wh('C', 0, 0)] },
    ];
    // {A,B} covers 4 of line 1 (3+1) and line 2; {A,C} would not cover line 2
    expect(routeOrder(lines, { strategy: 'fewest_shipments' })).toEqual([
      [
        { warehouse: 'A', qty: 3, backordered: 0 },
        { warehouse: 'B', qty: 1, backordered: 0 },
      ],
      [{ warehouse: 'B', qty: 1, backordered: 0 }],
    ]);
  });

  it('fewest_shipments uses backorder headroom only when no set covers the order in stock', () => {
    const lines = [{ qty: 5, candidates: [wh('A', 2, 1, { backorder_allowance: 5 }), wh('B', 2, 0)] }];
    expect(routeOrder(lines, { strategy: 'fewest_shipments' })).toEqual([[{ warehouse: 'A', qty: 5, backordered: 3 }]]);
  });

  it('refuses a line no warehouse can cover, whatever the strategy', () => {
    const lines = [
      { qty: 1, candidates: [wh('A', 5)] },
      { qty: 9, candidates: [wh('A', 5)] },
    ];
    for (const strategy of ['priority', 'most_available', 'nearest', 'fewest_shipments'] as const)
      expect(routeOrder(lines, { strategy })[1]).toBeNull();
  });

  it('chooses by trying every set up to its bound and greedily beyond it', () => {
    const many = Array.from({ length: 14 }, (_, i) => wh(`W${String(i).padStart(2, '0')}`, 1, i));
    const allocations = routeOrder([{ qty: 3, candidates: many }], { strategy: 'fewest_shipments' });
    expect(allocations[0]?.map((part) => part.warehouse)).toEqual(['W13', 'W12', 'W11']);
  });
});

import { describe, expect, it } from 'vitest';
import {
  abcClasses,
  checkNamedPick,
  faceOfAnother,
  pickFaceConflict,
  planCounts,
  planPick,
  planPutAway,
  planReplenishment,
  planReplenishments,
  roomFor,
  roomText,
  volumeOf,
} from './locations.js';
import type { LocationFill, PutAwayCandidate } from './locations.js';

const location = (fields: Partial<PutAwayCandidate> & { location: string }): PutAwayCandidate => ({
  type: 'bulk',
  active: true,
  sku_qty: 0,
  other_qty: 0,
  assigned: false,
  max_weight_g: null,
  max_volume_cm3: null,
  weight_g: 0,
  volume_cm3: 0,
  ...fields,
});

describe('room in a location', () => {
  it('is the smaller of what weight and volume leave, and says which decided', () => {
    const fill = { max_weight_g: 10_000, max_volume_cm3: 6_000, weight_g: 4_000, volume_cm3: 1_000 };
    expect(roomFor(fill, { weight_g: 1_000, volume_cm3: 1_000 })).toEqual({
      units: 5,
      limit: 'volume',
      weight_left_g: 6_000,
      volume_left_cm3: 5_000,
    });
    const room = roomFor(fill, { weight_g: 2_500, volume_cm3: 100 });
    expect(room).toMatchObject({ units: 2, limit: 'weight' });
    expect(roomText(room, { weight_g: 2_500, volume_cm3: 100 })).toBe(
      'room for 2 units by weight (6000 g left, 2500 g a unit)',
    );
  });

  it('is unlimited when no limit is stated or the unit is not measured', () => {
    expect(
      roomFor({ max_weight_g: null, max_volume_cm3: null, weight_g: 0, volume_cm3: 0 }, { weight_g: 5, volume_cm3: 5 }),
    ).toMatchObject({ units: null, limit: null });
    expect(
      roomFor(
        { max_weight_g: 100, max_volume_cm3: null, weight_g: 0, volume_cm3: 0 },
        { weight_g: null, volume_cm3: 5 },
      ),
    ).toMatchObject({ units: null });
  });

  it('is none, not negative, in an overfilled location', () => {
    expect(
      roomFor(
        { max_weight_g: 100, max_volume_cm3: null, weight_g: 150, volume_cm3: 0 },
        { weight_g: 10, volume_cm3: null },
      ),
    ).toMatchObject({ units: 0, weight_left_g: 0 });
  });

  it('derives a volume from dimensions, rounded up', () => {
    expect(volumeOf({ length_mm: 100, width_mm: 100, height_mm: 100 })).toBe(1000);
    expect(volumeOf({ length_mm: 3, width_mm: 3, height_mm: 3 })).toBe(1);
  });
});

describe('put-away', () => {
  const unit = { weight_g: 1_000, volume_cm3: null };

  it("fills the variant's pick face first and sends the rest to bulk, then overflow", () => {
    const plan = planPutAway(
      [
        location({ location: 'C-01-01', type: 'overflow' }),
        location({ location: 'B-01-01', type: 'bulk', max_weight_g: 5_000 }),
        location({
          location: 'A-01-01',
          type: 'pick_face',
          assigned: true,
          sku_qty: 2,
          weight_g: 2_000,
          max_weight_g: 5_000,
        }),
      ],
      unit,
      10,
    );
    expect(plan).toEqual({
      stops: [
        { location: 'A-01-01', qty: 3 },
        { location: 'B-01-01', qty: 5 },
        { location: 'C-01-01', qty: 2 },
      ],
      unplaced: 0,
    });
  });

  it('never picks a location holding other variants only, an inactive one, or a pick face of another variant', () => {
    const plan = planPutAway(
      [
        location({ location: 'A-01-01', type: 'pick_face' }),
        location({ location: 'B-01-01', other_qty: 4 }),
        location({ location: 'B-01-02', active: false }),
      ],
      unit,
      3,
    );
    expect(plan).toEqual({ stops: [], unplaced: 3 });
  });

  it('keeps a variant together: the bulk location holding most of it comes before an empty one', () => {
    const plan = planPutAway(
      [
        location({ location: 'B-01-01' }),
        location({ location: 'B-09-01', sku_qty: 7 }),
        location({ location: 'B-02-01', sku_qty: 2 }),
      ],
      unit,
      4,
    );
    expect(plan.stops).toEqual([{ location: 'B-09-01', qty: 4 }]);
  });

  it('says how many fit nowhere', () => {
    expect(planPutAway([location({ location: 'B-01-01', max_weight_g: 3_500 })], unit, 5)).toEqual({
      stops: [{ location: 'B-01-01', qty: 3 }],
      unplaced: 2,
    });
  });
});

describe('picking', () => {
  it('takes from pick faces first, then the bulk location that holds the rest alone, in aisle order', () => {
    const plan = planPick(
      [
        { location: 'B-02-01', type: 'bulk', qty: 3 },
        { location: 'B-01-01', type: 'bulk', qty: 10 },
        { location: 'A-05-01', type: 'pick_face', qty: 4 },
      ],
      9,
    );
    expect(plan).toEqual({
      stops: [
        { location: 'A-05-01', qty: 4 },
        { location: 'B-01-01', qty: 5 },
      ],
      unlocated: 0,
    });
  });

  it('makes as few stops as it can when no single location holds enough', () => {
    const plan = planPick(
      [
        { location: 'B-01-01', type: 'bulk', qty: 2 },
        { location: 'B-02-01', type: 'bulk', qty: 6 },
        { location: 'B-03-01', type: 'overflow', qty: 5 },
      ],
      10,
    );
    expect(plan.stops).toEqual([
      { location: 'B-02-01', qty: 6 },
      { location: 'B-03-01', qty: 4 },
    ]);
  });

  it('takes what no location holds from units put away nowhere', () => {
    expect(planPick([{ location: 'A-01-01', type: 'pick_face', qty: 2 }], 5)).toEqual({
      stops: [{ location: 'A-01-01', qty: 2 }],
      unlocated: 3,
    });
  });

  it('checks locations a caller names: what they hold, named once, adding up to the line', () => {
    const holdings = [
      { location: 'A-01-01', type: 'pick_face' as const, qty: 2 },
      { location: 'B-01-01', type: 'bulk' as const, qty: 5 },
    ];
    expect(
      checkNamedPick(
        holdings,
        [
          { location: 'B-01-01', qty: 3 },
          { location: 'A-01-01', qty: 1 },
        ],
        4,
        '/lines/0',
      ),
    ).toEqual([
      { location: 'A-01-01', qty: 1 },
      { location: 'B-01-01', qty: 3 },
    ]);
    expect(() => checkNamedPick(holdings, [{ location: 'A-01-01', qty: 3 }], 3, '/lines/0')).toThrow(
      'A-01-01 holds 2 units of this SKU, not 3',
    );
    expect(() => checkNamedPick(holdings, [{ location: 'B-01-01', qty: 3 }], 4, '/lines/1')).toThrow(
      '/lines/1/locations: the locations add up to 3 units, the line ships 4',
    );
    expect(() =>
      checkNamedPick(
        holdings,
        [
          { location: 'B-01-01', qty: 1 },
          { location: 'B-01-01', qty: 1 },
        ],
        2,
        '/lines/0',
      ),
    ).toThrow('named twice');
  });
});

describe('pick-face replenishment', () => {
  const reserve = [
    { location: 'B-01-01', type: 'bulk' as const, qty: 30 },
    { location: 'A-01-01', type: 'pick_face' as const, qty: 1 },
  ];

  it('refills a face below its minimum to its room, from bulk', () => {
    expect(planReplenishment({ location: 'A-01-01', qty: 1, min_qty: 4, room: 9 }, reserve)).toEqual({
      to: 'A-01-01',
      from: [{ location: 'B-01-01', qty: 9 }],
      qty: 9,
    });
  });

  it('refills to twice the minimum when no limit applies, and no more than bulk holds', () => {
    expect(planReplenishment({ location: 'A-01-01', qty: 1, min_qty: 4, room: null }, reserve)?.qty).toBe(7);
    expect(planReplenishment({ location: 'A-01-01', qty: 1, min_qty: 40, room: null }, reserve)?.qty).toBe(30);
  });

  it('suggests nothing at the minimum or with no reserve stock', () => {
    expect(planReplenishment({ location: 'A-01-01', qty: 4, min_qty: 4, room: null }, reserve)).toBeNull();
    expect(planReplenishment({ location: 'A-01-01', qty: 0, min_qty: 4, room: null }, [])).toBeNull();
  });
});

describe('pick-face assignments', () => {
  const assigned = [
    { location: 'A-01-01', sku: 'TEE' },
    { location: 'A-01-02', sku: 'CAP' },
  ];

  it('are one face per SKU and one SKU per face', () => {
    expect(pickFaceConflict(assigned, 'A-01-03', 'TEE')).toEqual({ location: 'A-01-01', sku: 'TEE' });
    expect(pickFaceConflict(assigned, 'A-01-01', 'MUG')).toEqual({ location: 'A-01-01', sku: 'TEE' });
  });

  it('let a face take a new minimum of its own SKU, and a free face a SKU with none', () => {
    expect(pickFaceConflict(assigned, 'A-01-01', 'TEE')).toBeUndefined();
    expect(pickFaceConflict(assigned, 'A-01-03', 'MUG')).toBeUndefined();
  });

  it("keep units of a SKU out of another SKU's face, not out of its own, a free one or any other location", () => {
    expect(faceOfAnother(assigned, 'A-01-01', 'MUG')).toEqual({ location: 'A-01-01', sku: 'TEE' });
    expect(faceOfAnother(assigned, 'A-01-01', 'TEE')).toBeUndefined();
    expect(faceOfAnother(assigned, 'A-01-03', 'MUG')).toBeUndefined();
    // a SKU with a face elsewhere may still be put in a free location (bulk behind it, say)
    expect(faceOfAnother(assigned, 'B-01-01', 'TEE')).toBeUndefined();
  });
});

describe("a warehouse's pick-face refills", () => {
  const fill = (fields: Partial<LocationFill> = {}): LocationFill => ({
    max_weight_g: null,
    max_volume_cm3: null,
    weight_g: 0,
    volume_cm3: 0,
    ...fields,
  });
  const unmeasured = { weight_g: null, volume_cm3: null };

  it('never take more out of a source than it holds: a later face gets what the earlier ones left', () => {
    const planned = planReplenishments(
      [
        { location: 'A-01-01', sku: 'TEE', active: true, qty: 0, min_qty: 5, unit: unmeasured },
        { location: 'A-01-02', sku: 'TEE', active: true, qty: 1, min_qty: 5, unit: unmeasured },
        { location: 'A-01-03', sku: 'TEE', active: true, qty: 0, min_qty: 5, unit: unmeasured },
      ],
      new Map([
        ['A-01-01', fill()],
        ['A-01-02', fill()],
        ['A-01-03', fill()],
      ]),
      new Map([
        [
          'TEE',
          [
            { location: 'B-01-01', type: 'bulk' as const, qty: 8 },
            { location: 'C-01-01', type: 'overflow' as const, qty: 6 },
          ],
        ],
      ]),
    );
    expect(planned.map((move) => [move.to, move.qty, move.from])).toEqual([
      [
        'A-01-01',
        10,
        [
          { location: 'B-01-01', qty: 8 },
          { location: 'C-01-01', qty: 2 },
        ],
      ],
      ['A-01-02', 4, [{ location: 'C-01-01', qty: 4 }]],
    ]);
  });

  it('leave out an inactive face: a move into it would be refused', () => {
    const reserve = new Map([['TEE', [{ location: 'B-01-01', type: 'bulk' as const, qty: 8 }]]]);
    const face = { location: 'A-01-01', sku: 'TEE', qty: 0, min_qty: 2, unit: unmeasured };
    const fills = new Map([['A-01-01', fill()]]);
    expect(planReplenishments([{ ...face, active: false }], fills, reserve)).toEqual([]);
    expect(planReplenishments([{ ...face, active: true }], fills, reserve)).toHaveLength(1);
  });

  it('count the room a face has left after the refills before it', () => {
    const unit = { weight_g: 1_000, volume_cm3: null };
    const planned = planReplenishments(
      [
        { location: 'A-01-01', sku: 'TEE', active: true, qty: 0, min_qty: 4, unit },
        { location: 'A-01-01', sku: 'CAP', active: true, qty: 0, min_qty: 4, unit },
      ],
      new Map([['A-01-01', fill({ max_weight_g: 10_000 })]]),
      new Map([
        ['TEE', [{ location: 'B-01-01', type: 'bulk' as const, qty: 7 }]],
        ['CAP', [{ location: 'B-01-02', type: 'bulk' as const, qty: 20 }]],
      ]),
    );
    expect(planned.map((move) => [move.sku, move.qty])).toEqual([
      ['TEE', 7],
      ['CAP', 3],
    ]);
  });
});

describe('cycle count plans', () => {
  it('class SKUs A, B, C by their share of all movement, the one crossing 80% still A', () => {
    const classes = abcClasses([
      { key: 'a', moved: 70 },
      { key: 'b', moved: 15 },
      { key: 'c', moved: 10 },
      { key: 'd', moved: 5 },
      { key: 'e', moved: 0 },
    ]);
    expect([...classes].sort()).toEqual([
      ['a', 'A'],
      ['b', 'A'],
      ['c', 'B'],
      ['d', 'C'],
      ['e', 'C'],
    ]);
  });

  it('count A first (each class oldest count first), or simply the oldest count first', () => {
    const old = new Date('2026-01-01T00:00:00Z');
    const recent = new Date('2026-01-10T00:00:00Z');
    const candidates = [
      { location: 'B-01-01', sku: 'slow', qty: 1, last_counted_at: null, moved: 1, moved_value: 10 },
      { location: 'A-01-01', sku: 'fast', qty: 9, last_counted_at: recent, moved: 90, moved_value: 900 },
      { location: 'B-02-01', sku: 'fast', qty: 9, last_counted_at: old, moved: 90, moved_value: 900 },
    ];
    expect(planCounts(candidates, 'abc', 10).map((item) => `${item.location} ${item.class}`)).toEqual([
      'B-02-01 A',
      'A-01-01 A',
      'B-01-01 C',
    ]);
    expect(planCounts(candidates, 'oldest', 2).map((item) => item.location)).toEqual(['B-01-01', 'B-02-01']);
  });

  it('class by the value moved, not the units: many cheap units are C beside a few dear ones', () => {
    const candidates = [
      { location: 'A-01-01', sku: 'cheap', qty: 90, last_counted_at: null, moved: 90, moved_value: 90 },
      { location: 'A-02-01', sku: 'dear', qty: 2, last_counted_at: null, moved: 2, moved_value: 4_000 },
    ];
    expect(planCounts(candidates, 'abc', 10).map((item) => `${item.sku} ${item.class}`)).toEqual(['dear A', 'cheap C']);
  });
});

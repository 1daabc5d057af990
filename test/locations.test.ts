import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

/**
 * The warehouse floor over HTTP: locations with a type and limits and their fill, put-away by type and room,
 * pick lists and fulfilment out of the locations they name, pick-face replenishment. Each test has a warehouse
 * of its own; the harness reconciles the ledger after every one.
 */
describe.each(drivers())('the warehouse floor on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  /** A warehouse with these locations, and SKUs with these measures. */
  async function floor(
    locations: { code: string; type?: string; max_weight_g?: number; max_volume_cm3?: number }[],
    skus: { weight_g?: number; volume_cm3?: number }[],
  ): Promise<{ wh: string; sku: string[] }> {
    const wh = uniq('FL').replace(/[^A-Za-z0-9-]/g, '');
    expect((await call('POST', '/v1/warehouses', { body: { code: wh, name: wh } })).status).toBe(201);
    for (const location of locations)
      expect((await call('POST', `/v1/warehouses/${wh}/locations`, { body: location })).status).toBe(201);
    const sku: string[] = [];
    for (const measures of skus) {
      const code = uniq('SKU');
      expect((await call('POST', '/v1/variants', { body: { sku: code, product: { title: code } } })).status).toBe(201);
      expect((await call('PUT', `/v1/variants/${code}/measures`, { body: measures })).status).toBe(200);
      sku.push(code);
    }
    return { wh, sku };
  }

  const receive = (body: Record<string, unknown>) => call('POST', '/v1/stock/receive', { body, scope: 'warehouse' });

  it('lists locations with their type, limits and fill: units, weight and volume used against the maximum', async () => {
    const { wh, sku } = await floor(
      [{ code: 'A-01-01', type: 'pick_face', max_weight_g: 10_000, max_volume_cm3: 50_000 }, { code: 'B-01-01' }],
      [{ weight_g: 500, volume_cm3: 2_000 }],
    );
    const [tee] = sku as [string];
    expect(
      (await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01/minimum`, { body: { sku: tee, min_qty: 3 } })).status,
    ).toBe(200);
    expect((await receive({ sku: tee, warehouse: wh, qty: 4, bin: 'A-01-01' })).status).toBe(200);
    expect((await call('PUT', `/v1/warehouses/${wh}/capacity`, { body: { capacity_cm3: 1_000_000 } })).status).toBe(
      200,
    );

    const list = await call('GET', `/v1/warehouses/${wh}/locations`, { scope: 'warehouse' });
    expect(list).toMatchObject({
      status: 200,
      body: {
        warehouse: wh,
        capacity_cm3: 1_000_000,
        volume_cm3: 8_000,
        items: [
          {
            code: 'A-01-01',
            type: 'pick_face',
            active: true,
            max_weight_g: 10_000,
            max_volume_cm3: 50_000,
            fill: { units: 4, weight_g: 2_000, volume_cm3: 8_000 },
            contents: [
              { sku: tee, qty: 4, min_qty: 3, last_moved_at: expect.any(String) as unknown, last_counted_at: null },
            ],
          },
          {
            code: 'B-01-01',
            type: 'bulk',
            max_weight_g: null,
            fill: { units: 0, weight_g: 0, volume_cm3: 0 },
            contents: [],
          },
        ],
      },
    });
    const changed = await call('PUT', `/v1/warehouses/${wh}/locations/B-01-01`, {
      body: { type: 'overflow', max_weight_g: 1_000, active: false },
    });
    expect(changed.body).toMatchObject({ type: 'overflow', max_weight_g: 1_000, active: false });
    expect((await call('GET', `/v1/warehouses/${wh}/locations?type=overflow&active=false`)).body['items']).toEqual([
      expect.objectContaining({ code: 'B-01-01' }),
    ]);

    // refusals: a minimum on a location that is no pick face, an unknown location, a duplicate, a bad type
    expect(
      await call('PUT', `/v1/warehouses/${wh}/locations/B-01-01/minimum`, { body: { sku: tee, min_qty: 1 } }),
    ).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    expect(await call('GET', `/v1/warehouses/${wh}/locations/Z-09-09`)).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect(await call('POST', `/v1/warehouses/${wh}/locations`, { body: { code: 'A-01-01' } })).toMatchObject({
      status: 409,
      body: { code: 'already_exists' },
    });
    expect(
      await call('POST', `/v1/warehouses/${wh}/locations`, { body: { code: 'C-01-01', type: 'shelf' } }),
    ).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
  });

  it('derives a unit volume from dimensions, rounded up', async () => {
    const { sku } = await floor([], [{}]);
    const set = await call('PUT', `/v1/variants/${sku[0] ?? ''}/measures`, {
      body: { weight_g: 250, dimensions_mm: { length: 301, width: 201, height: 20 } },
    });
    expect(set.body).toEqual({
      sku: sku[0],
      weight_g: 250,
      dimensions_mm: { length: 301, width: 201, height: 20 },
      volume_cm3: 1211,
    });
    expect((await call('GET', `/v1/variants/${sku[0] ?? ''}/measures`, { scope: 'warehouse' })).body).toEqual(set.body);
  });

  it('refuses dimensions whose volume passes what a unit may take up, at the dimensions, as a volume given is refused', async () => {
    const { sku } = await floor([], [{}]);
    const measures = (body: Record<string, unknown>) => call('PUT', `/v1/variants/${sku[0] ?? ''}/measures`, { body });
    for (const height of [214, 215]) {
      const refused = await measures({ dimensions_mm: { length: 100_000, width: 100_000, height } });
      expect(refused).toMatchObject({
        status: 400,
        body: { code: 'validation_failed', errors: [{ path: '/dimensions_mm' }] },
      });
      expect((refused.body['errors'] as { message: string }[])[0]?.message).toBe(
        `these dimensions make a unit of ${height * 10_000_000} cm³, more than the 2000000000 cm³ a unit may take up`,
      );
    }
    expect(await measures({ volume_cm3: 2_140_000_000 })).toMatchObject({
      status: 400,
      body: { errors: [{ path: '/volume_cm3' }] },
    });
    // 2,000,000,000 cm³ exactly is a unit's most, derived or given
    expect((await measures({ dimensions_mm: { length: 100_000, width: 100_000, height: 200 } })).body).toMatchObject({
      volume_cm3: 2_000_000_000,
    });
    expect((await call('GET', `/v1/variants/${sku[0] ?? ''}/measures`)).body).toMatchObject({
      volume_cm3: 2_000_000_000,
    });
  });

  it('reads the fill of locations holding more volume than 2^53 - 1 cm³, and puts more away there', async () => {
    const { wh, sku } = await floor(
      [{ code: 'A-01-01' }, { code: 'B-01-01', max_volume_cm3: 1_000_000 }],
      [{ weight_g: 2_000_000_000, volume_cm3: 2_000_000_000 }],
    );
    const [crate] = sku as [string];
    expect((await receive({ sku: crate, warehouse: wh, qty: 5_000_000, bin: 'A-01-01' })).status).toBe(200);
    expect((await receive({ sku: crate, warehouse: wh, qty: 1, bin: 'A-01-01' })).status).toBe(200);
    // 10,000,002,000,000,000 is past 2^53 - 1 and still a number JSON readers hold exactly
    const list = await call('GET', `/v1/warehouses/${wh}/locations`, { scope: 'warehouse' });
    expect(list).toMatchObject({
      status: 200,
      body: {
        volume_cm3: 10_000_002_000_000_000,
        items: [
          {
            code: 'A-01-01',
            fill: { units: 5_000_001, weight_g: 10_000_002_000_000_000, volume_cm3: 10_000_002_000_000_000 },
          },
          { code: 'B-01-01', fill: { units: 0, volume_cm3: 0 } },
        ],
      },
    });
    expect((await call('GET', `/v1/warehouses/${wh}/locations/A-01-01`)).status).toBe(200);
    expect((await call('GET', `/v1/warehouses/${wh}/put-away?sku=${crate}&qty=1`)).body).toMatchObject({
      stops: [{ location: 'A-01-01', qty: 1 }],
    });
    expect((await receive({ sku: crate, warehouse: wh, qty: 1, bin: 'B-01-01' })).body).toMatchObject({
      code: 'no_room',
      limit: 'volume',
    });
  });

  it('puts away into the pick face first; a full pick face sends the rest to bulk, then overflow', async () => {
    const { wh, sku } = await floor(
      [
        { code: 'A-01-01', type: 'pick_face', max_weight_g: 5_000 },
        { code: 'B-01-01', type: 'bulk', max_weight_g: 6_000 },
        { code: 'C-01-01', type: 'overflow' },
      ],
      [{ weight_g: 1_000 }],
    );
    const [tee] = sku as [string];
    await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01/minimum`, { body: { sku: tee, min_qty: 2 } });
    expect((await receive({ sku: tee, warehouse: wh, qty: 2, bin: 'A-01-01' })).status).toBe(200);

    expect((await call('GET', `/v1/warehouses/${wh}/put-away?sku=${tee}&qty=12`, { scope: 'warehouse' })).body).toEqual(
      {
        sku: tee,
        warehouse: wh,
        qty: 12,
        stops: [
          { location: 'A-01-01', qty: 3 },
          { location: 'B-01-01', qty: 6 },
          { location: 'C-01-01', qty: 3 },
        ],
        unplaced: 0,
      },
    );

    // a purchase order received without naming locations goes where the suggestion says
    await call('POST', '/v1/suppliers', { body: { code: wh, name: 'Supplier', warehouse: wh } });
    const order = await call('POST', '/v1/purchase-orders', {
      body: { supplier: wh, warehouse: wh, lines: [{ sku: tee, qty: 12 }] },
    });
    const id = order.body['id'] as number;
    await call('POST', `/v1/purchase-orders/${id}/send`);
    await call('POST', `/v1/purchase-orders/${id}/confirm`);
    const received = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      body: { lines: [{ sku: tee, qty: 12 }] },
      scope: 'warehouse',
    });
    expect(received.body['put_away']).toEqual([
      { sku: tee, qty: 3, bin: 'A-01-01', suggested: true },
      { sku: tee, qty: 6, bin: 'B-01-01', suggested: true },
      { sku: tee, qty: 3, bin: 'C-01-01', suggested: true },
    ]);
    const fills = (
      (await call('GET', `/v1/warehouses/${wh}/locations`)).body['items'] as { fill: { units: number } }[]
    ).map((location) => location.fill.units);
    expect(fills).toEqual([5, 6, 3]);
  });

  it('names a bad put-away quantity under /query, whatever is wrong with it', async () => {
    const { wh, sku } = await floor([{ code: 'A-01-01' }], [{}]);
    for (const qty of ['0', 'abc', '10000001', '-1'])
      expect(await call('GET', `/v1/warehouses/${wh}/put-away?sku=${sku[0] ?? ''}&qty=${qty}`)).toMatchObject({
        status: 400,
        body: { code: 'validation_failed', errors: [{ path: '/query/qty' }] },
      });
  });

  it('refuses a receipt into a location without room, saying which limit and how much room, unless forced', async () => {
    const { wh, sku } = await floor(
      [
        { code: 'A-01-01', type: 'bulk', max_weight_g: 5_000, max_volume_cm3: 100_000 },
        { code: 'B-01-01', type: 'bulk', max_volume_cm3: 3_000 },
      ],
      [{ weight_g: 1_200, volume_cm3: 1_000 }],
    );
    const [box] = sku as [string];
    const refused = await receive({ sku: box, warehouse: wh, qty: 5, bin: 'A-01-01' });
    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'no_room', sku: box, warehouse: wh, location: 'A-01-01', requested: 5, room: 4, limit: 'weight' },
    });
    expect(refused.body['detail']).toContain('room for 4 units by weight (5000 g left, 1200 g a unit)');
    expect((await call('GET', `/v1/stock/${box}`)).body).toMatchObject({ total: { on_hand: 0 } });

    const byVolume = await receive({ sku: box, warehouse: wh, qty: 4, bin: 'B-01-01' });
    expect(byVolume.body).toMatchObject({ code: 'no_room', room: 3, limit: 'volume' });

    expect((await receive({ sku: box, warehouse: wh, qty: 5, bin: 'A-01-01', force: true })).status).toBe(200);
    expect((await call('GET', `/v1/warehouses/${wh}/locations/A-01-01`)).body).toMatchObject({
      fill: { units: 5, weight_g: 6_000 },
    });

    // an inactive location takes nothing
    await call('PUT', `/v1/warehouses/${wh}/locations/B-01-01`, { body: { active: false } });
    expect((await receive({ sku: box, warehouse: wh, qty: 1, bin: 'B-01-01' })).body).toMatchObject({
      code: 'no_room',
      limit: 'inactive',
      room: 0,
    });
  });

  it('refuses a purchase order receipt with room nowhere, with the reason, and changes nothing', async () => {
    const { wh, sku } = await floor(
      [
        { code: 'A-01-01', type: 'bulk', max_volume_cm3: 4_000 },
        { code: 'B-01-01', type: 'overflow', max_volume_cm3: 2_000 },
      ],
      [{ volume_cm3: 1_000 }],
    );
    const [crate] = sku as [string];
    await call('POST', '/v1/suppliers', { body: { code: wh, name: 'Supplier', warehouse: wh } });
    const order = await call('POST', '/v1/purchase-orders', {
      body: { supplier: wh, warehouse: wh, lines: [{ sku: crate, qty: 10 }] },
    });
    const id = order.body['id'] as number;
    await call('POST', `/v1/purchase-orders/${id}/send`);
    await call('POST', `/v1/purchase-orders/${id}/confirm`);
    const refused = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      body: { lines: [{ sku: crate, qty: 10 }] },
    });
    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'no_room', location: null, requested: 10, room: 6, limit: 'locations' },
    });
    expect((await call('GET', `/v1/stock/${crate}`)).body).toMatchObject({ total: { on_hand: 0 } });
    expect((await call('GET', `/v1/purchase-orders/${id}`)).body).toMatchObject({ status: 'CONFIRMED' });

    const forced = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      body: { lines: [{ sku: crate, qty: 10 }], force: true },
    });
    expect(forced.body['put_away']).toEqual([
      { sku: crate, qty: 4, bin: 'A-01-01', suggested: true },
      { sku: crate, qty: 2, bin: 'B-01-01', suggested: true },
      { sku: crate, qty: 4, bin: null, suggested: true },
    ]);
  });

  it('lets concurrent receipts into one location take only the room there is, the rest refused', async () => {
    const { wh, sku } = await floor(
      [{ code: 'A-01-01', max_weight_g: 4_000 }],
      [{ weight_g: 1_000 }, { weight_g: 1_000 }],
    );
    const [tee, cap] = sku as [string, string];
    // two SKUs, so the receipts do not already wait on one level's lock: the location's lock decides
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        receive({ sku: i % 2 === 0 ? tee : cap, warehouse: wh, qty: 1, bin: 'A-01-01' }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(4);
    expect(answers.filter((answer) => answer.body.code === 'no_room')).toHaveLength(6);
    expect((await call('GET', `/v1/warehouses/${wh}/locations/A-01-01`)).body).toMatchObject({
      fill: { units: 4, weight_g: 4_000 },
    });
  });

  describe('picking', () => {
    let wh = '';
    let skus: [string, string, string];
    beforeAll(async () => {
      const made = await floor(
        [
          { code: 'A-01-01', type: 'pick_face' },
          { code: 'B-02-01', type: 'bulk' },
          { code: 'B-01-01', type: 'bulk' },
          { code: 'C-01-01', type: 'overflow' },
        ],
        [{}, {}, {}],
      );
      wh = made.wh;
      skus = made.sku as [string, string, string];
    });

    it('lists a 3-line reservation across 4 locations and fulfils out of exactly those, the ledger naming each', async () => {
      const [tee, cap, mug] = skus;
      for (const [sku, qty, bin] of [
        [tee, 2, 'A-01-01'],
        [tee, 10, 'B-02-01'],
        [cap, 6, 'B-01-01'],
        [cap, 1, 'C-01-01'],
        [mug, 4, 'C-01-01'],
      ] as const)
        expect((await receive({ sku, warehouse: wh, qty, bin })).status).toBe(200);

      const reserved = await call('POST', '/v1/reservations', {
        scope: 'checkout',
        body: {
          order_ref: uniq('order'),
          warehouse: wh,
          lines: [
            { sku: tee, qty: 5 },
            { sku: cap, qty: 3 },
            { sku: mug, qty: 2 },
          ],
        },
      });
      expect(reserved.body).toMatchObject({ status: 'pending' });
      const id = reserved.body['id'] as string;
      expect((await call('POST', `/v1/reservations/${id}/commit`, { scope: 'checkout' })).status).toBe(200);

      const list = await call('GET', `/v1/reservations/${id}/pick-list`, { scope: 'warehouse' });
      expect(list.body).toMatchObject({
        reservation_id: id,
        lines: [
          {
            sku: tee,
            qty: 5,
            stops: [
              { location: 'A-01-01', qty: 2 },
              { location: 'B-02-01', qty: 3 },
            ],
            unlocated: 0,
          },
          { sku: cap, qty: 3, stops: [{ location: 'B-01-01', qty: 3 }], unlocated: 0 },
          { sku: mug, qty: 2, stops: [{ location: 'C-01-01', qty: 2 }], unlocated: 0 },
        ],
        walk: [
          { warehouse: wh, location: 'A-01-01', sku: tee, qty: 2 },
          { warehouse: wh, location: 'B-01-01', sku: cap, qty: 3 },
          { warehouse: wh, location: 'B-02-01', sku: tee, qty: 3 },
          { warehouse: wh, location: 'C-01-01', sku: mug, qty: 2 },
        ],
      });

      expect(await call('GET', '/v1/reservations/0x10/pick-list')).toMatchObject({
        status: 400,
        body: { code: 'validation_failed', errors: [{ path: '/params/id' }] },
      });
      const fulfilled = await call('POST', `/v1/reservations/${id}/fulfil`, { scope: 'checkout', body: {} });
      expect(fulfilled.body).toMatchObject({ status: 'fulfilled' });
      const ledger = await call('GET', `/v1/movements?reservation_id=${id}&type=fulfil`, { scope: 'warehouse' });
      const rows = (
        ledger.body['items'] as { sku: string; location: string; location_delta: number; delta_on_hand: number }[]
      )
        .map((row) => [row.sku, row.location, row.location_delta, row.delta_on_hand])
        .sort();
      expect(rows).toEqual(
        [
          [tee, 'A-01-01', -2, -2],
          [tee, 'B-02-01', -3, -3],
          [cap, 'B-01-01', -3, -3],
          [mug, 'C-01-01', -2, -2],
        ].sort(),
      );
      const contents = (
        (await call('GET', `/v1/warehouses/${wh}/locations`)).body['items'] as {
          code: string;
          contents: { sku: string; qty: number }[];
        }[]
      ).map((location) => [location.code, location.contents.map((held) => `${held.sku}:${held.qty}`)]);
      expect(contents).toEqual([
        ['A-01-01', []],
        ['B-01-01', [`${cap}:3`]],
        ['B-02-01', [`${tee}:7`]],
        ['C-01-01', [`${cap}:1`, `${mug}:2`].sort()],
      ]);
    });

    it('fulfils out of the locations the caller names, and refuses ones that do not hold the units', async () => {
      const [tee, cap] = skus;
      const reserved = await call('POST', '/v1/reservations', {
        scope: 'checkout',
        body: {
          order_ref: uniq('order'),
          warehouse: wh,
          lines: [
            { sku: tee, qty: 2 },
            { sku: cap, qty: 1 },
          ],
        },
      });
      const id = reserved.body['id'] as string;
      const wrong = await call('POST', `/v1/reservations/${id}/fulfil`, {
        scope: 'checkout',
        body: { lines: [{ sku: cap, qty: 1, locations: [{ location: 'B-02-01', qty: 1 }] }] },
      });
      expect(wrong).toMatchObject({
        status: 400,
        body: { code: 'validation_failed', errors: [{ path: '/lines/0/locations/0/qty' }] },
      });
      const short = await call('POST', `/v1/reservations/${id}/fulfil`, {
        scope: 'checkout',
        body: { lines: [{ sku: tee, qty: 2, locations: [{ location: 'B-02-01', qty: 1 }] }] },
      });
      expect(short.body).toMatchObject({ code: 'validation_failed', errors: [{ path: '/lines/0/locations' }] });

      const named = await call('POST', `/v1/reservations/${id}/fulfil`, {
        scope: 'checkout',
        body: {
          lines: [
            { sku: tee, qty: 2, locations: [{ location: 'B-02-01', qty: 2 }] },
            { sku: cap, qty: 1, locations: [{ location: 'C-01-01', qty: 1 }] },
          ],
        },
      });
      expect(named.body).toMatchObject({ status: 'fulfilled' });
      const ledger = await call('GET', `/v1/movements?reservation_id=${id}&type=fulfil`);
      expect(
        (ledger.body['items'] as { sku: string; location: string }[]).map((row) => `${row.sku}@${row.location}`).sort(),
      ).toEqual([`${tee}@B-02-01`, `${cap}@C-01-01`].sort());
    });
  });

  it('fulfils concurrent reservations out of the locations, each taking what the ones before it left', async () => {
    const { wh, sku } = await floor(
      [
        { code: 'A-01-01', type: 'pick_face' },
        { code: 'B-01-01', type: 'bulk' },
      ],
      [{}],
    );
    const [tee] = sku as [string];
    await receive({ sku: tee, warehouse: wh, qty: 2, bin: 'A-01-01' });
    await receive({ sku: tee, warehouse: wh, qty: 4, bin: 'B-01-01' });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const held = await call('POST', '/v1/reservations', {
        scope: 'checkout',
        body: { order_ref: uniq('order'), warehouse: wh, lines: [{ sku: tee, qty: 1 }] },
      });
      ids.push(held.body['id'] as string);
    }
    const shipped = await Promise.all(
      ids.map((id) => call('POST', `/v1/reservations/${id}/fulfil`, { scope: 'checkout', body: {} })),
    );
    expect(shipped.map((answer) => answer.body['status'])).toEqual(Array.from({ length: 6 }, () => 'fulfilled'));
    const rows = (await call('GET', `/v1/movements?sku=${tee}&type=fulfil`)).body['items'] as { location: string }[];
    expect(rows.map((row) => row.location).sort()).toEqual([
      'A-01-01',
      'A-01-01',
      'B-01-01',
      'B-01-01',
      'B-01-01',
      'B-01-01',
    ]);
    expect(
      ((await call('GET', `/v1/warehouses/${wh}/locations`)).body['items'] as { fill: { units: number } }[]).map(
        (location) => location.fill.units,
      ),
    ).toEqual([0, 0]);
  });

  it('suggests refilling a pick face below its minimum from bulk, and records the confirmed move between locations', async () => {
    const { wh, sku } = await floor(
      [
        { code: 'A-01-01', type: 'pick_face', max_weight_g: 8_000 },
        { code: 'B-01-01', type: 'bulk' },
      ],
      [{ weight_g: 1_000 }],
    );
    const [tee] = sku as [string];
    await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01/minimum`, { body: { sku: tee, min_qty: 3 } });
    await receive({ sku: tee, warehouse: wh, qty: 1, bin: 'A-01-01' });
    await receive({ sku: tee, warehouse: wh, qty: 20, bin: 'B-01-01' });

    const suggested = await call('GET', `/v1/warehouses/${wh}/replenishments`, { scope: 'warehouse' });
    expect(suggested.body).toEqual({
      items: [
        {
          warehouse: wh,
          sku: tee,
          to: 'A-01-01',
          on_face: 1,
          min_qty: 3,
          qty: 7,
          from: [{ location: 'B-01-01', qty: 7 }],
        },
      ],
    });
    const moved = await call('POST', `/v1/warehouses/${wh}/relocations`, {
      scope: 'warehouse',
      body: { sku: tee, from: 'B-01-01', to: 'A-01-01', qty: 7 },
    });
    expect(moved).toMatchObject({ status: 201, body: { sku: tee, from: 'B-01-01', to: 'A-01-01', qty: 7 } });
    expect((await call('GET', `/v1/stock/${tee}`)).body).toMatchObject({ total: { on_hand: 21 } });
    const rows = (await call('GET', `/v1/movements?sku=${tee}&type=relocate`)).body['items'] as Record<
      string,
      unknown
    >[];
    expect(
      rows.map((row) => [row['location'], row['location_delta'], row['delta_on_hand'], row['on_hand_after']]).sort(),
    ).toEqual([
      ['A-01-01', 7, 0, 21],
      ['B-01-01', -7, 0, 21],
    ]);
    expect((await call('GET', `/v1/warehouses/${wh}/replenishments`)).body).toEqual({ items: [] });

    // a move the face has no room for, or more than the source holds, is refused and changes nothing
    expect(
      (
        await call('POST', `/v1/warehouses/${wh}/relocations`, {
          body: { sku: tee, from: 'B-01-01', to: 'A-01-01', qty: 1 },
        })
      ).body,
    ).toMatchObject({ code: 'no_room', limit: 'weight', room: 0 });
    expect(
      (
        await call('POST', `/v1/warehouses/${wh}/relocations`, {
          body: { sku: tee, from: 'A-01-01', to: 'B-01-01', qty: 9 },
        })
      ).body,
    ).toMatchObject({ code: 'validation_failed', errors: [{ path: '/qty' }] });
  });

  it('counts a location: the variance moves on hand through the ledger, is reported, and the plan puts the oldest count last', async () => {
    const { wh, sku } = await floor(
      [
        { code: 'A-01-01', type: 'pick_face' },
        { code: 'B-01-01', type: 'bulk' },
      ],
      [{}, {}],
    );
    const [fast, slow] = sku as [string, string];
    await receive({ sku: fast, warehouse: wh, qty: 50, bin: 'A-01-01', unit_cost: 100 });
    await receive({ sku: fast, warehouse: wh, qty: 10, bin: 'B-01-01', unit_cost: 100 });
    await receive({ sku: slow, warehouse: wh, qty: 2, bin: 'B-01-01', unit_cost: 100 });

    // ABC by movement value: the SKU that moved most is A and comes first; oldest-first takes never-counted in code order
    const abc = await call('GET', `/v1/warehouses/${wh}/count-plan`, { scope: 'warehouse' });
    expect(abc.body).toMatchObject({ method: 'abc', window_days: 90 });
    expect(
      (abc.body['items'] as { location: string; sku: string; class: string }[]).map((item) => [
        item.location,
        item.sku,
        item.class,
      ]),
    ).toEqual([
      ['A-01-01', fast, 'A'],
      ['B-01-01', fast, 'A'],
      ['B-01-01', slow, 'C'],
    ]);

    const fewer = await call('POST', `/v1/warehouses/${wh}/locations/B-01-01/counts`, {
      scope: 'warehouse',
      body: { sku: fast, counted: 7 },
    });
    expect(fewer).toMatchObject({
      status: 201,
      body: { location: 'B-01-01', sku: fast, expected: 10, counted: 7, variance: -3 },
    });
    const more = await call('POST', `/v1/warehouses/${wh}/locations/A-01-01/counts`, {
      body: { sku: fast, counted: 51 },
    });
    expect(more.body).toMatchObject({ expected: 50, variance: 1 });
    await call('POST', `/v1/warehouses/${wh}/locations/B-01-01/counts`, { body: { sku: slow, counted: 2 } });

    expect((await call('GET', `/v1/stock/${fast}`)).body).toMatchObject({ total: { on_hand: 58 } });
    const rows = (await call('GET', `/v1/movements?sku=${fast}&type=count`)).body['items'] as Record<string, unknown>[];
    expect(
      rows.map((row) => [row['location'], row['location_delta'], row['delta_on_hand'], row['reason']]).sort(),
    ).toEqual([
      ['A-01-01', 1, 1, 'cycle_count'],
      ['B-01-01', -3, -3, 'cycle_count'],
    ]);
    const location = await call('GET', `/v1/warehouses/${wh}/locations/B-01-01`);
    // contents come in SKU order
    const counted: Record<string, number> = { [fast]: 7, [slow]: 2 };
    expect(location.body['contents']).toEqual(
      [fast, slow].sort().map(
        (code) =>
          expect.objectContaining({
            sku: code,
            qty: counted[code],
            last_counted_at: h.clock.now().toISOString(),
          }) as unknown,
      ),
    );

    const report = await call('GET', `/v1/warehouses/${wh}/counts`, { scope: 'warehouse' });
    expect(report.body).toMatchObject({ counts: 3, net_variance: -2, absolute_variance: 4 });

    // oldest count first: A-01-01, counted again a minute later, goes after the two counted before
    h.clock.advance(60);
    await call('POST', `/v1/warehouses/${wh}/locations/A-01-01/counts`, { body: { sku: fast, counted: 51 } });
    const oldest = await call('GET', `/v1/warehouses/${wh}/count-plan?method=oldest&limit=2`);
    expect((oldest.body['items'] as { location: string; sku: string }[]).map((item) => item.location)).toEqual([
      'B-01-01',
      'B-01-01',
    ]);
    expect(await call('GET', `/v1/warehouses/${wh}/count-plan?method=newest`)).toMatchObject({ status: 400 });
  });

  it('refuses a count plan or variance report limit outside 1-500 from an embedding program, as over HTTP', async () => {
    const { wh } = await floor([{ code: 'A-01-01' }], []);
    for (const limit of [0, -1, 501, 2.5]) {
      await expect(h.s.locations.countPlan(wh, { limit })).rejects.toMatchObject({
        code: 'validation_failed',
        errors: [{ path: '/limit', message: 'must be a whole number from 1 to 500' }],
      });
      await expect(h.s.locations.varianceReport(wh, { limit })).rejects.toMatchObject({
        errors: [{ path: '/limit' }],
      });
    }
    await expect(h.s.locations.countPlan(wh, { windowDays: 0 })).rejects.toMatchObject({
      errors: [{ path: '/windowDays', message: 'must be a whole number from 1 to 3650' }],
    });
    expect(await call('GET', `/v1/warehouses/${wh}/count-plan?limit=0`)).toMatchObject({
      status: 400,
      body: { errors: [{ path: '/query/limit' }] },
    });
    expect((await h.s.locations.countPlan(wh, { limit: 500, windowDays: 3650 })).items).toEqual([]);
  });

  it('classes the count plan by the value moved, not the units: a few dear units outrank many cheap ones, uncosted units move none', async () => {
    const { wh, sku } = await floor([{ code: 'A-01-01', type: 'pick_face' }, { code: 'B-01-01' }], [{}, {}, {}, {}]);
    const [cheap, mid, dear, uncosted] = sku as [string, string, string, string];
    expect((await receive({ sku: cheap, warehouse: wh, qty: 100, bin: 'A-01-01', unit_cost: 1 })).status).toBe(200);
    expect((await receive({ sku: mid, warehouse: wh, qty: 10, bin: 'A-01-01', unit_cost: 50 })).status).toBe(200);
    expect((await receive({ sku: dear, warehouse: wh, qty: 2, bin: 'B-01-01', unit_cost: 2_000 })).status).toBe(200);
    expect((await receive({ sku: uncosted, warehouse: wh, qty: 50, bin: 'B-01-01' })).status).toBe(200);
    // one dear unit found missing: it leaves at the average, 2000, so 3 units moved 6000 in all
    expect(
      (await call('POST', `/v1/warehouses/${wh}/locations/B-01-01/counts`, { body: { sku: dear, counted: 1 } })).body,
    ).toMatchObject({ variance: -1 });

    // by units the order would be cheap (100), uncosted (50), mid (10), dear (3): A, A, B, C
    // by value (6600 in all) it is dear 6000 (A), mid 500 (starts at 91%: B), cheap 100 (C), uncosted 0 (C)
    const plan = await call('GET', `/v1/warehouses/${wh}/count-plan`, { scope: 'warehouse' });
    expect(plan).toMatchObject({ status: 200, body: { method: 'abc', currency: 'USD' } });
    const items = plan.body['items'] as { sku: string; class: string; moved: number; moved_value: number }[];
    const bySku = Object.fromEntries(items.map((item) => [item.sku, [item.class, item.moved, item.moved_value]]));
    expect(bySku).toEqual({
      [dear]: ['A', 3, 6_000],
      [mid]: ['B', 10, 500],
      [cheap]: ['C', 100, 100],
      [uncosted]: ['C', 50, 0],
    });
    // A first, then B; the Cs (never counted) in location then SKU order
    expect(items.slice(0, 2).map((item) => item.sku)).toEqual([dear, mid]);
  });

  describe('pick faces: one place per SKU', () => {
    const minimum = (wh: string, location: string, sku: string, min_qty: number | null) =>
      call('PUT', `/v1/warehouses/${wh}/locations/${location}/minimum`, { body: { sku, min_qty } });

    it('refuses a second pick face for a SKU, and a second SKU for a pick face, naming the face assigned', async () => {
      const { wh, sku } = await floor(
        [
          { code: 'A-01-02', type: 'pick_face' },
          { code: 'A-01-03', type: 'pick_face' },
        ],
        [{}, {}],
      );
      const [tee, cap] = sku as [string, string];
      expect((await minimum(wh, 'A-01-02', tee, 5)).status).toBe(200);
      const twoFaces = await minimum(wh, 'A-01-03', tee, 5);
      expect(twoFaces).toMatchObject({
        status: 409,
        body: { code: 'already_exists', resource: 'pick face', key: `${wh}/A-01-02` },
      });
      expect(twoFaces.body['detail']).toContain(`${tee} has its pick face there`);
      const twoSkus = await minimum(wh, 'A-01-02', cap, 3);
      expect(twoSkus).toMatchObject({
        status: 409,
        body: { code: 'already_exists', resource: 'pick face', key: `${wh}/A-01-02` },
      });
      expect(twoSkus.body['detail']).toContain(`it is ${tee}'s`);
      // its own face's minimum changes; cleared, the SKU may move to another face
      expect((await minimum(wh, 'A-01-02', tee, 6)).body['contents']).toEqual([
        expect.objectContaining({ sku: tee, min_qty: 6 }),
      ]);
      expect((await minimum(wh, 'A-01-02', tee, null)).status).toBe(200);
      expect((await minimum(wh, 'A-01-03', tee, 5)).status).toBe(200);
      expect((await minimum(wh, 'A-01-02', cap, 3)).status).toBe(200);
      const faces = (await call('GET', `/v1/warehouses/${wh}/locations`)).body['items'] as {
        code: string;
        contents: { sku: string; min_qty: number | null }[];
      }[];
      expect(faces.map((face) => [face.code, face.contents.map((held) => [held.sku, held.min_qty])])).toEqual([
        ['A-01-02', [[cap, 3]]],
        ['A-01-03', [[tee, 5]]],
      ]);
    });

    it("keeps units of another SKU out of a SKU's face: a receipt naming it (forced too) and a relocation into it are refused, and change nothing", async () => {
      const { wh, sku } = await floor(
        [{ code: 'A-01-01', type: 'pick_face' }, { code: 'A-01-02', type: 'pick_face' }, { code: 'B-01-01' }],
        [{}, {}],
      );
      const [tee, cap] = sku as [string, string];
      expect((await minimum(wh, 'A-01-01', tee, 4)).status).toBe(200);
      expect((await receive({ sku: cap, warehouse: wh, qty: 5, bin: 'B-01-01' })).status).toBe(200);
      const before = await call('GET', `/v1/warehouses/${wh}/locations`);
      const stock = (await call('GET', `/v1/stock/${cap}`)).body;
      const refusal = {
        status: 409,
        body: { code: 'already_exists', resource: 'pick face', key: `${wh}/A-01-01` },
      };
      for (const force of [false, true]) {
        const received = await receive({ sku: cap, warehouse: wh, qty: 1, bin: 'A-01-01', force });
        expect(received).toMatchObject(refusal);
        expect(received.body['detail']).toContain(`it is ${tee}'s, and a pick face is one SKU's`);
      }
      const moved = await call('POST', `/v1/warehouses/${wh}/relocations`, {
        scope: 'warehouse',
        body: { sku: cap, from: 'B-01-01', to: 'A-01-01', qty: 2 },
      });
      expect(moved).toMatchObject(refusal);
      expect((await call('GET', `/v1/warehouses/${wh}/locations`)).body).toEqual(before.body);
      expect((await call('GET', `/v1/stock/${cap}`)).body).toEqual(stock);
      // its own SKU goes in, and the other SKU into a face nobody has
      expect((await receive({ sku: tee, warehouse: wh, qty: 2, bin: 'A-01-01' })).status).toBe(200);
      expect(
        (
          await call('POST', `/v1/warehouses/${wh}/relocations`, {
            scope: 'warehouse',
            body: { sku: cap, from: 'B-01-01', to: 'A-01-02', qty: 2 },
          })
        ).status,
      ).toBe(201);
    });

    it("drops the minimums of a pick face made bulk: it is no SKU's face and no refill is planned into it", async () => {
      const { wh, sku } = await floor(
        [{ code: 'A-01-01', type: 'pick_face' }, { code: 'A-01-02', type: 'pick_face' }, { code: 'B-01-01' }],
        [{}],
      );
      const [tee] = sku as [string];
      expect((await minimum(wh, 'A-01-01', tee, 4)).status).toBe(200);
      expect((await receive({ sku: tee, warehouse: wh, qty: 1, bin: 'A-01-01' })).status).toBe(200);
      expect((await receive({ sku: tee, warehouse: wh, qty: 10, bin: 'B-01-01' })).status).toBe(200);
      expect((await call('GET', `/v1/warehouses/${wh}/replenishments`)).body['items']).toHaveLength(1);

      const bulk = await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01`, { body: { type: 'bulk' } });
      expect(bulk.body).toMatchObject({ type: 'bulk', contents: [{ sku: tee, qty: 1, min_qty: null }] });
      expect((await call('GET', `/v1/warehouses/${wh}/replenishments`)).body).toEqual({ items: [] });
      // a pick face again, it is still no SKU's until one is assigned; the SKU may now take another face
      await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01`, { body: { type: 'pick_face' } });
      expect((await call('GET', `/v1/warehouses/${wh}/locations/A-01-01`)).body).toMatchObject({
        contents: [{ sku: tee, qty: 1, min_qty: null }],
      });
      expect((await minimum(wh, 'A-01-02', tee, 2)).status).toBe(200);
    });

    it('leaves an inactive pick face out of the refill plan: a move into it is refused', async () => {
      const { wh, sku } = await floor([{ code: 'A-01-01', type: 'pick_face' }, { code: 'B-01-01' }], [{}]);
      const [tee] = sku as [string];
      expect((await minimum(wh, 'A-01-01', tee, 3)).status).toBe(200);
      expect((await receive({ sku: tee, warehouse: wh, qty: 10, bin: 'B-01-01' })).status).toBe(200);
      expect((await call('GET', `/v1/warehouses/${wh}/replenishments`)).body['items']).toEqual([
        expect.objectContaining({ to: 'A-01-01', qty: 6 }),
      ]);
      await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01`, { body: { active: false } });
      expect((await call('GET', `/v1/warehouses/${wh}/replenishments`)).body).toEqual({ items: [] });
      expect(
        (
          await call('POST', `/v1/warehouses/${wh}/relocations`, {
            body: { sku: tee, from: 'B-01-01', to: 'A-01-01', qty: 6 },
          })
        ).body,
      ).toMatchObject({ code: 'no_room', limit: 'inactive' });
    });

    it('never plans more out of a bulk location than it holds, when two faces of one SKU are left from before the rule', async () => {
      const { wh, sku } = await floor(
        [
          { code: 'A-01-02', type: 'pick_face' },
          { code: 'A-01-03', type: 'pick_face', max_weight_g: 8_000 },
          { code: 'B-01-01' },
        ],
        [{ weight_g: 1_000 }],
      );
      const [tee] = sku as [string];
      expect((await minimum(wh, 'A-01-02', tee, 5)).status).toBe(200);
      expect((await receive({ sku: tee, warehouse: wh, qty: 10, bin: 'B-01-01' })).status).toBe(200);
      // a second face, assigned as an older version allowed
      await h.test.db.query(
        `INSERT INTO bin_stock (bin_id, variant_id, qty, min_qty)
         SELECT b.id, v.id, 0, 5 FROM bins b JOIN warehouses w ON w.id = b.warehouse_id, variants v
          WHERE w.code = $1 AND b.code = 'A-01-03' AND v.sku = $2`,
        [wh, tee],
      );
      const items = (await call('GET', `/v1/warehouses/${wh}/replenishments`)).body['items'] as {
        to: string;
        qty: number;
        from: { location: string; qty: number }[];
      }[];
      // A-01-02 (no limit) wants 10, A-01-03 has room for 8: B-01-01's 10 go to the first, in code order
      expect(items).toEqual([
        expect.objectContaining({ to: 'A-01-02', qty: 10, from: [{ location: 'B-01-01', qty: 10 }] }),
      ]);
    });
  });

  describe('counts and moves that name a SKU refuse as the stock routes do', () => {
    it('refuses a location count that finds units in an archived warehouse or of an archived variant, as a count of the level does', async () => {
      const { wh, sku } = await floor([{ code: 'A-01-01' }], [{}, {}]);
      const [tee, cap] = sku as [string, string];
      expect((await call('POST', `/v1/warehouses/${wh}/archive`)).status).toBe(200);
      const located = await call('POST', `/v1/warehouses/${wh}/locations/A-01-01/counts`, {
        scope: 'warehouse',
        body: { sku: tee, counted: 3 },
      });
      expect(located).toMatchObject({ status: 409, body: { code: 'archived', resource: 'warehouse', key: wh } });
      const level = await call('POST', '/v1/stock/count', { body: { sku: tee, warehouse: wh, counted: 3 } });
      expect(level).toMatchObject({ status: 409, body: { code: 'archived', resource: 'warehouse', key: wh } });
      expect((await call('GET', `/v1/stock/${tee}`)).body).toMatchObject({ total: { on_hand: 0 } });
      expect((await call('GET', `/v1/warehouses/${wh}/counts`)).body).toMatchObject({ counts: 0 });
      // a count that raises nothing is no write of units: both take it
      expect(
        (await call('POST', `/v1/warehouses/${wh}/locations/A-01-01/counts`, { body: { sku: tee, counted: 0 } }))
          .status,
      ).toBe(201);
      expect((await call('POST', '/v1/stock/count', { body: { sku: tee, warehouse: wh, counted: 0 } })).status).toBe(
        200,
      );

      // an archived variant in a warehouse in use: units found are refused, units found missing are not
      expect((await call('POST', `/v1/warehouses/${wh}/unarchive`)).status).toBe(200);
      expect((await receive({ sku: cap, warehouse: wh, qty: 2, bin: 'A-01-01' })).status).toBe(200);
      expect(
        (await call('POST', `/v1/warehouses/${wh}/locations/A-01-01/counts`, { body: { sku: cap, counted: 0 } })).body,
      ).toMatchObject({ variance: -2 });
      expect((await call('POST', `/v1/variants/${cap}/archive`)).status).toBe(200);
      expect(
        await call('POST', `/v1/warehouses/${wh}/locations/A-01-01/counts`, { body: { sku: cap, counted: 1 } }),
      ).toMatchObject({ status: 409, body: { code: 'archived', resource: 'variant', key: cap } });
      expect((await call('GET', `/v1/stock/${cap}`)).body).toMatchObject({ total: { on_hand: 0 } });
    });

    it('refuses a kit in a location count (of 0 too), a minimum, a move and a put-away suggestion, as a count of the level does', async () => {
      const { wh, sku } = await floor(
        [{ code: 'A-01-01', type: 'pick_face' }, { code: 'B-01-01' }],
        [{ weight_g: 100 }, { weight_g: 100 }],
      );
      const [mug, set] = sku as [string, string];
      expect((await call('PUT', `/v1/kits/${set}`, { body: { components: [{ sku: mug, qty: 2 }] } })).status).toBe(200);
      const kitRefusal = { status: 409, body: { code: 'kit_holds_no_stock', sku: set } };
      expect(await call('POST', '/v1/stock/count', { body: { sku: set, warehouse: wh, counted: 0 } })).toMatchObject(
        kitRefusal,
      );
      for (const counted of [0, 2])
        expect(
          await call('POST', `/v1/warehouses/${wh}/locations/B-01-01/counts`, { body: { sku: set, counted } }),
        ).toMatchObject(kitRefusal);
      expect(
        await call('PUT', `/v1/warehouses/${wh}/locations/A-01-01/minimum`, { body: { sku: set, min_qty: 2 } }),
      ).toMatchObject(kitRefusal);
      expect(
        await call('POST', `/v1/warehouses/${wh}/relocations`, {
          body: { sku: set, from: 'B-01-01', to: 'A-01-01', qty: 1 },
        }),
      ).toMatchObject(kitRefusal);
      expect(await call('GET', `/v1/warehouses/${wh}/put-away?sku=${set}&qty=1`)).toMatchObject(kitRefusal);
      expect((await call('GET', `/v1/warehouses/${wh}/counts`)).body).toMatchObject({ counts: 0 });
      expect(
        ((await call('GET', `/v1/warehouses/${wh}/locations`)).body['items'] as { contents: unknown[] }[]).map(
          (location) => location.contents,
        ),
      ).toEqual([[], []]);
    });
  });
});

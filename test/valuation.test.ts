import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

/** One group of GET /v1/valuation, as far as these tests read it. */
interface Group {
  key: string | null;
  levels: number;
  on_hand: number;
  value: number;
  uncosted_units: number;
  average_cost: number | null;
}

describe.each(drivers())('the valuation report over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const { call, fetchRaw } = useHttpServer(h);

  const valuation = async (query: string): Promise<{ groups: Group[]; total: Group } & Record<string, unknown>> => {
    const answer = await call('GET', `/v1/valuation?${query}`);
    expect(answer.status).toBe(200);
    return answer.body as { groups: Group[]; total: Group };
  };
  const group = (groups: Group[], key: string): Pick<Group, 'on_hand' | 'value'> => {
    const found = groups.find((one) => one.key === key);
    return { on_hand: found?.on_hand ?? 0, value: found?.value ?? 0 };
  };
  const receive = (sku: string, warehouse: string, qty: number, unitCost: number) =>
    call('POST', '/v1/stock/receive', { scope: 'warehouse', body: { sku, warehouse, qty, unit_cost: unitCost } });

  it("values stock as of yesterday as today's value less today's movements, by warehouse, category and supplier", async () => {
    const supplier = uniq('SUP');
    expect((await call('POST', '/v1/suppliers', { body: { code: supplier, name: supplier } })).status).toBe(201);
    const category = uniq('cat').toLowerCase();
    const { sku, wh } = await world(h.s, [0, 0], { product: { title: 'Tee', category }, supplier });
    const [a, b] = wh as [string, string];

    // yesterday: 10 at 10.00 in A, 5 at 20.00 in B
    const yesterday = h.clock.now().toISOString().slice(0, 10);
    await receive(sku, a, 10, 1000);
    await receive(sku, b, 5, 2000);
    h.clock.advance(86_400);
    const today = h.clock.now().toISOString().slice(0, 10);
    // today: A gets 10 at 13.00 (23000 for 20, average 11.50), ships 4 (-4600), sends 2 to B (-2300);
    // B then holds 7 worth 12300 (average 1757.14 -> 1757) and loses 1 damaged (-1757)
    await receive(sku, a, 10, 1300);
    const reserved = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('order'), lines: [{ sku, qty: 4 }] },
    });
    const id = reserved.body['id'] as string;
    await call('POST', `/v1/reservations/${id}/commit`, { scope: 'checkout' });
    expect((await call('POST', `/v1/reservations/${id}/fulfil`, { scope: 'checkout' })).body.status).toBe('fulfilled');
    await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from: a, to: b, qty: 2 } });
    await call('POST', '/v1/stock/adjust', {
      scope: 'warehouse',
      body: { sku, warehouse: b, delta: -1, reason: 'damaged' },
    });

    const then = await valuation(`as_of=${yesterday}`);
    expect(then).toMatchObject({ as_of: `${yesterday}T23:59:59.999Z`, currency: 'USD', group_by: 'warehouse' });
    expect([group(then.groups, a), group(then.groups, b)]).toEqual([
      { on_hand: 10, value: 10000 },
      { on_hand: 5, value: 10000 },
    ]);
    const now = await valuation('group_by=warehouse');
    expect([group(now.groups, a), group(now.groups, b)]).toEqual([
      { on_hand: 14, value: 16100 },
      { on_hand: 6, value: 10543 },
    ]);
    expect(now.groups.find((one) => one.key === a)).toMatchObject({ levels: 1, average_cost: 1150 });

    // today's ledger rows, taken off today's valuation, give yesterday's
    const moves = (await call('GET', `/v1/movements?sku=${sku}&since=${today}&limit=100`)).body.items as {
      warehouse: string;
      delta_on_hand: number;
      value_delta: number | null;
    }[];
    for (const warehouse of [a, b]) {
      const todays = moves.filter((move) => move.warehouse === warehouse);
      expect({
        on_hand: group(now.groups, warehouse).on_hand - todays.reduce((sum, move) => sum + move.delta_on_hand, 0),
        value: group(now.groups, warehouse).value - todays.reduce((sum, move) => sum + (move.value_delta ?? 0), 0),
      }).toEqual(group(then.groups, warehouse));
    }

    // the same stock by its category and its supplier, then and now
    for (const [groupBy, key] of [
      ['category', category],
      ['supplier', supplier],
      ['sku', sku],
    ] as const) {
      expect(group((await valuation(`group_by=${groupBy}&as_of=${yesterday}`)).groups, key)).toEqual({
        on_hand: 15,
        value: 20000,
      });
      expect(group((await valuation(`group_by=${groupBy}`)).groups, key)).toEqual({ on_hand: 20, value: 26643 });
    }
    // before anything was received, none of it is there
    expect(group((await valuation('as_of=2026-01-14')).groups, a)).toEqual({ on_hand: 0, value: 0 });
    const total = (await valuation('')).total;
    expect(total.value).toBe((await valuation('')).groups.reduce((sum, one) => sum + one.value, 0));
  });

  it('exports every level of a valuation as CSV and as an Excel workbook', async () => {
    const { sku, wh } = await world(h.s, [0, 0]);
    const [a, b] = wh as [string, string];
    await receive(sku, a, 3, 250);
    await receive(sku, b, 2, 1999);
    const csv = await fetchRaw(`/v1/valuation/export.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('sku,warehouse,category,supplier,on_hand,uncosted_units,currency,average_cost,value');
    expect(lines.filter((line) => line.startsWith(`${sku},`))).toEqual([
      `${sku},${a},,,3,0,USD,250,750`,
      `${sku},${b},,,2,0,USD,1999,3998`,
    ]);

    const xlsx = await fetchRaw('/v1/valuation/export.xlsx');
    expect(xlsx.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await xlsx.arrayBuffer());
    const rows: unknown[][] = [];
    workbook.getWorksheet('valuation')?.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    expect(rows[0]).toEqual([
      'sku',
      'warehouse',
      'category',
      'supplier',
      'on_hand',
      'uncosted_units',
      'currency',
      'average_cost',
      'value',
    ]);
    expect(rows.filter((row) => row[0] === sku).map((row) => [row[1], row[4], row[7], row[8]])).toEqual([
      [a, 3, 250, 750],
      [b, 2, 1999, 3998],
    ]);
  });

  it('counts units never given a cost at no value, and says how many', async () => {
    const { sku, wh } = await world(h.s, [4]);
    const level = (await valuation('group_by=sku')).groups.find((one) => one.key === sku);
    expect(level).toEqual({ key: sku, levels: 1, on_hand: 4, value: 0, uncosted_units: 4, average_cost: null });
    await receive(sku, wh[0]!, 1, 300); // the first cost values the 4 already there too
    expect((await valuation('group_by=sku')).groups.find((one) => one.key === sku)).toMatchObject({
      on_hand: 5,
      value: 1500,
      uncosted_units: 0,
      average_cost: 300,
    });
  });

  it('keeps units counted, adjusted, returned or sent uncosted into a never-costed level uncosted, until a transfer brings it a cost', async () => {
    const { sku, wh } = await world(h.s, [2, 3]);
    const [costed, uncosted] = wh as [string, string];
    const level = async () =>
      (await valuation('group_by=warehouse')).groups.find((one) => one.key === uncosted) ?? { key: uncosted };
    // none of these paths has a cost to bring: the units come in at the level's average, which it has none of
    await call('POST', '/v1/stock/count', { scope: 'warehouse', body: { sku, warehouse: uncosted, counted: 5 } });
    await call('POST', '/v1/stock/adjust', {
      scope: 'warehouse',
      body: { sku, warehouse: uncosted, delta: 1, reason: 'correction' },
    });
    const returned = await call('POST', '/v1/returns', {
      scope: 'warehouse',
      body: { sku, warehouse: uncosted, qty: 1, condition: 'resellable', reference: uniq('rma') },
    });
    expect(returned.status).toBe(200);
    await call('POST', '/v1/stock/transfer', {
      scope: 'warehouse',
      body: { sku, from: costed, to: uncosted, qty: 1 },
    });
    expect(await level()).toMatchObject({ on_hand: 8, value: 0, uncosted_units: 8, average_cost: null });

    // the first cost here comes with a transfer: every unit there is valued at it
    await receive(sku, costed, 1, 250);
    await call('POST', '/v1/stock/transfer', {
      scope: 'warehouse',
      body: { sku, from: costed, to: uncosted, qty: 1 },
    });
    expect(await level()).toMatchObject({ on_hand: 9, value: 2250, uncosted_units: 0, average_cost: 250 });
  });

  it('refuses an unknown grouping, a date that is none, and keys that are not admin', async () => {
    expect(await call('GET', '/v1/valuation?group_by=colour')).toMatchObject({
      status: 400,
      body: { code: 'validation_failed' },
    });
    expect(await call('GET', '/v1/valuation?as_of=yesterday')).toMatchObject({
      status: 400,
      body: { code: 'validation_failed' },
    });
    expect(await call('GET', '/v1/valuation?as_of=2026-02-30')).toMatchObject({ status: 400 });
    expect((await call('GET', '/v1/valuation', { scope: 'warehouse' })).status).toBe(403);
    expect((await fetchRaw('/v1/valuation/export.csv?as_of=nope')).status).toBe(400);
  });

  it('values stock as of the last day of 9999, the last the contract takes, as of now', async () => {
    const { sku, wh } = await world(h.s, [0]);
    await receive(sku, wh[0] as string, 3, 250);
    const last = await valuation('as_of=9999-12-31&group_by=sku');
    expect(last.as_of).toBe('9999-12-31T23:59:59.999Z');
    expect(group(last.groups, sku)).toEqual(group((await valuation('group_by=sku')).groups, sku));
    expect(group(last.groups, sku)).toEqual({ on_hand: 3, value: 750 });
    expect((await valuation('as_of=9999-12-31T23:59:59.999Z')).as_of).toBe('9999-12-31T23:59:59.999Z');
    for (const format of ['csv', 'xlsx']) {
      const exported = await fetchRaw(`/v1/valuation/export.${format}?as_of=9999-12-31`);
      expect(exported.status).toBe(200);
      await exported.arrayBuffer();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { averageOf } from '../src/domain/money.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

interface Row {
  id: number;
  type: string;
  delta_on_hand: number;
  on_hand_after: number;
  unit_cost: number | null;
  value_delta: number | null;
  value_after: number | null;
}

describe.each(drivers())('moving-average cost under concurrent buyers and receipts on %s', (driver) => {
  const h = useStockroom(driver, { max: 8 });
  const { call } = useHttpServer(h);

  it('costs every row on the numbers the row before it left, however the orders and receipts interleave', async () => {
    const { sku, wh } = await world(h.s, [0]);
    const warehouse = wh[0]!;
    const receive = (qty: number, unitCost: number) =>
      call('POST', '/v1/stock/receive', { scope: 'warehouse', body: { sku, warehouse, qty, unit_cost: unitCost } });
    expect((await receive(60, 1000)).status).toBe(200);

    const buyer = async (qty: number): Promise<void> => {
      const reserved = await call('POST', '/v1/reservations', {
        scope: 'checkout',
        body: { order_ref: uniq('order'), lines: [{ sku, qty }] },
      });
      expect(reserved.status).toBe(201);
      const id = reserved.body['id'] as string;
      expect((await call('POST', `/v1/reservations/${id}/commit`, { scope: 'checkout' })).status).toBe(200);
      expect((await call('POST', `/v1/reservations/${id}/fulfil`, { scope: 'checkout' })).status).toBe(200);
    };
    // 24 buyers of 1-3 units and 8 receipts at different costs, all at once: 48 units leave, 40 arrive
    await Promise.all([
      ...Array.from({ length: 24 }, (_, i) => buyer(1 + (i % 3))),
      ...Array.from({ length: 8 }, (_, i) =>
        receive(5, 900 + 37 * i).then((answer) => {
          expect(answer.status).toBe(200);
        }),
      ),
    ]);

    const rows = ((await call('GET', `/v1/movements?sku=${sku}&warehouse=${warehouse}&limit=500`)).body.items as Row[])
      .filter((row) => row.delta_on_hand !== 0)
      .sort((a, b) => a.id - b.id);
    expect(rows.filter((row) => row.type === 'fulfil')).toHaveLength(24);
    expect(rows.at(-1)?.on_hand_after).toBe(60 + 40 - 48);
    let valueBefore = 0;
    for (const row of rows) {
      const onHandBefore = row.on_hand_after - row.delta_on_hand;
      if (row.type === 'receive') {
        expect(row.value_delta).toBe(row.delta_on_hand * (row.unit_cost ?? NaN));
      } else {
        // a fulfilment leaves at the average of what the rows before it left, not at one read earlier
        expect(row.unit_cost).toBe(averageOf(valueBefore, onHandBefore));
        expect(row.value_delta).toBe(row.delta_on_hand * (row.unit_cost ?? NaN));
      }
      expect(row.value_after).toBe(valueBefore + (row.value_delta ?? NaN));
      valueBefore = row.value_after ?? NaN;
    }
    // what is left is worth what came in less the cost of goods sold
    const received = rows.filter((row) => row.type === 'receive').reduce((sum, row) => sum + (row.value_delta ?? 0), 0);
    const sold = rows.filter((row) => row.type === 'fulfil').reduce((sum, row) => sum - (row.value_delta ?? 0), 0);
    expect(valueBefore).toBe(received - sold);
    const valuation = await call('GET', '/v1/valuation?group_by=sku');
    expect((valuation.body.groups as { key: string; value: number }[]).find((group) => group.key === sku)?.value).toBe(
      valueBefore,
    );
  });
});

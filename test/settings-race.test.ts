import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { drivers } from './support/databases.js';
import { useStockroom, world } from './support/harness.js';

/** Deadlocks PostgreSQL has detected in this database so far (none on the embedded one, which runs one at a time). */
async function deadlocks(h: ReturnType<typeof useStockroom>): Promise<number> {
  if (h.test.db.driver !== 'postgres') return 0;
  const { rows } = await h.s.db.query<{ n: number }>(
    'SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return rows[0]?.n ?? 0;
}

describe.each(drivers())('settings changes racing reservations on %s', (driver) => {
  const h = useStockroom(driver, { max: 12 });
  let app: FastifyInstance;
  let url: string;
  let key: string;

  beforeAll(async () => {
    ({ key } = await h.s.keys.create({ name: 'race', scopes: ['admin'] }));
    app = await buildServer({ stockroom: h.s });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
  });

  const call = async (method: string, path: string, body: unknown): Promise<number> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('PUTs of thresholds and safety stock never deadlock with reservations of the same variant: only 2xx and 409', async () => {
    const { sku } = await world(h.s, [60, 60, 60], { low_stock_threshold: 50 });
    const before = await deadlocks(h);
    const reservations = Array.from(
      { length: 160 },
      (_, i) => () => call('POST', '/v1/reservations', { order_ref: `race-${i}`, lines: [{ sku, qty: 1 + (i % 2) }] }),
    );
    // thresholds that cross the stock as it falls (alerts fire, the alert trigger locks the variant's levels)
    // and safety stock that moves what reservations may take
    const settings = Array.from(
      { length: 40 },
      (_, i) => () =>
        call('PUT', `/v1/variants/${sku}`, i % 2 === 0 ? { low_stock_threshold: 20 + i * 5 } : { safety_stock: i % 4 }),
    );
    const all = [...reservations];
    settings.forEach((put, i) => all.splice(i * 5, 0, put));
    const statuses = await Promise.all(all.map((c) => c()));
    const counted = statuses.reduce<Record<number, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {});
    expect(
      Object.keys(counted)
        .map(Number)
        .filter((s) => s !== 200 && s !== 201 && s !== 409),
    ).toEqual([]);
    expect(counted[200]).toBe(settings.length);
    expect(counted[201]).toBeGreaterThan(0);
    expect(await deadlocks(h)).toBe(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stockroom } from '../src/services/stockroom.js';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import { createPostgresDatabase, postgresUrl, redisUrl } from './support/databases.js';
import { expectReconciled } from './support/harness.js';
import { ADMIN_KEY, adminCall } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';
import { itemOf, openStream } from './support/sse.js';

describe.skipIf(!postgresUrl() || !redisUrl())('two server processes on one PostgreSQL with Redis', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ url, drop } = await createPostgresDatabase());
    const db = await openPostgres(url);
    await migrate(db);
    await db.close();
    const env = { DATABASE_URL: url, REDIS_URL: redisUrl(), STOCKROOM_ADMIN_KEY: ADMIN_KEY };
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
    const s = new Stockroom({ db: await openPostgres(url) });
    try {
      await expectReconciled(s);
    } finally {
      await s.close();
    }
    await drop();
  });

  const api = adminCall;
  const hits = async (server: ServerProcess): Promise<number> =>
    Number(
      /^stockroom_availability_cache_hits_total (\d+)$/m.exec(
        await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text(),
      )?.[1],
    );

  it('a stream on one process sees a change made through the other, and both answer from one cache', async () => {
    await api(a, 'POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    await api(a, 'POST', '/v1/variants', { sku: 'SHARED-1', product: { title: 'Shared' }, low_stock_threshold: 2 });
    await api(a, 'POST', '/v1/stock/receive', { sku: 'SHARED-1', warehouse: 'AMS', qty: 4 });

    // read through a, answered from the shared cache by b. The receive's announcement reaches b on its own
    // connection and may land after a's read, dropping the entry once: so b reads until the cache answers it
    // (once the announcement is in, the entry a or b wrote stays)
    await api(a, 'GET', '/v1/availability?sku=SHARED-1');
    let answeredFromCache = false;
    for (let read = 0; read < 10 && !answeredFromCache; read++) {
      const before = await hits(b);
      expect(await api(b, 'GET', '/v1/availability?sku=SHARED-1')).toMatchObject({ items: [{ available: 4 }] });
      answeredFromCache = (await hits(b)) === before + 1;
    }
    expect(answeredFromCache).toBe(true);

    const stream = await openStream(`${b.url}/v1/availability/stream?sku=SHARED-1`);
    try {
      expect(itemOf(await stream.next())).toMatchObject({ available: 4, status: 'in_stock' });
      await api(a, 'POST', '/v1/reservations', { order_ref: 'via-a', lines: [{ sku: 'SHARED-1', qty: 3 }] });
      expect(itemOf(await stream.next())).toEqual({
        sku: 'SHARED-1',
        available: 1,
        status: 'low_stock',
        label: 'Only 1 left',
      });
    } finally {
      await stream.close();
    }
    // and the shared cache no longer holds the old answer for either
    expect(await api(b, 'GET', '/v1/availability?sku=SHARED-1')).toMatchObject({ items: [{ available: 1 }] });
  });
});

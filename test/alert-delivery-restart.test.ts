import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { httpReceiver } from './support/receivers.js';
import { ADMIN_KEY, adminCall, expectServerDatabaseReconciled, serverDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';

describe.each(drivers())('alert delivery across a crash on %s', (driver) => {
  it('a server killed mid-delivery leaves the event to the next one, which delivers it (same id, at least once)', async () => {
    const database = await serverDatabase(driver);
    const receiver = await httpReceiver();
    // the first request is held open: the server is killed while it waits for the answer
    receiver.answer = (n) => (n === 0 ? 'hang' : { status: 200 });
    const env = {
      ...database.env,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_DELIVERY_TIMEOUT_MS: '1000',
      STOCKROOM_DELIVERY_BACKOFF_MS: '50',
    };
    try {
      const first = await startServer(env);
      await adminCall(first, 'POST', '/v1/warehouses', { code: 'CRASH', name: 'Crash' });
      await adminCall(first, 'POST', '/v1/variants', {
        sku: 'CRASH-1',
        product: { title: 'Crash' },
        low_stock_threshold: 5,
      });
      await adminCall(first, 'POST', '/v1/stock/receive', { sku: 'CRASH-1', warehouse: 'CRASH', qty: 6 });
      expect(
        await adminCall(first, 'POST', '/v1/webhooks', {
          url: `${receiver.url}/in`,
          events: ['out_of_stock'],
          secret: 'whsec-0123456789abcdef',
        }),
      ).toMatchObject({ kind: 'webhook' });
      await adminCall(first, 'POST', '/v1/stock/adjust', {
        sku: 'CRASH-1',
        warehouse: 'CRASH',
        delta: -6,
        reason: 'damaged',
      }); // 2 alerts
      const [held] = await receiver.received(1);
      await first.kill();

      const second = await startServer(env);
      try {
        // the held event comes again once its claim lapses (2 x timeout + 1 s), whatever the other one did
        const heldId = String(held!.headers['x-stockroom-event-id']);
        await expect
          .poll(() => receiver.items.filter((r) => String(r.headers['x-stockroom-event-id']) === heldId).length, {
            timeout: 15_000,
          })
          .toBe(2);
        await expect
          .poll(
            async () =>
              ((await adminCall(second, 'GET', '/v1/deliveries'))['items'] as { status: string }[]).map(
                (d) => d.status,
              ),
            { timeout: 10_000 },
          )
          .toEqual(['delivered', 'delivered']);
        const items = (await adminCall(second, 'GET', '/v1/deliveries'))['items'] as {
          event_id: string;
          attempts: number;
        }[];
        expect(items.find((d) => d.event_id === heldId)?.attempts).toBe(2);
        const ids = new Set(receiver.items.map((r) => String(r.headers['x-stockroom-event-id'])));
        expect(ids.size).toBe(2); // both events arrived; a receiver de-duplicating by id sees each once
      } finally {
        expect(await second.stop()).toBe(0);
      }
      await expectServerDatabaseReconciled(database);
    } finally {
      await receiver.close();
      await database.cleanup();
    }
  }, 60_000);
});

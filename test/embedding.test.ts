import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShop } from '../examples/embed.js';
import { createTestDb, drivers } from './support/databases.js';

/**
 * examples/embed.ts as it stands: a Fastify server of its own with stockroom's API mounted under /inventory (the
 * stockroomApi plugin, from the built package) on a Stockroom the host's own routes also use.
 */
describe.each(drivers())('stockroom mounted in a Fastify server of your own (examples/embed.ts), on %s', (driver) => {
  let shop: Awaited<ReturnType<typeof startShop>>;
  const headers = (): Record<string, string> => ({
    authorization: `Bearer ${shop.adminKey}`,
    'content-type': 'application/json',
  });
  const post = (path: string, body: unknown, extra: Record<string, string> = {}) =>
    fetch(`${shop.url}${path}`, { method: 'POST', headers: { ...headers(), ...extra }, body: JSON.stringify(body) });

  beforeAll(async () => {
    // a migrated database of the driver (the example migrates it again: nothing to do), closed with the shop
    const { db } = await createTestDb(driver);
    shop = await startShop({ db });
  });
  afterAll(async () => {
    // the example's Stockroom is the built package's: its report is checked as expectReconciled does
    const report = await shop.stockroom.reconcile();
    expect({ drift: report.drift, holds: report.holds, states: report.states }).toEqual({
      drift: [],
      holds: [],
      states: [],
    });
    await shop.app.close();
  });

  it('serves the API under its prefix beside the host routes, on the same stockroom', async () => {
    expect((await post('/inventory/v1/warehouses', { code: 'AMS', name: 'Amsterdam' })).status).toBe(201);
    expect((await post('/inventory/v1/variants', { sku: 'TEE-M', product: { title: 'Tee' } })).status).toBe(201);
    expect((await post('/inventory/v1/stock/receive', { sku: 'TEE-M', warehouse: 'AMS', qty: 3 })).status).toBe(200);
    const reserve = () =>
      post(
        '/inventory/v1/reservations',
        { order_ref: 'order-1', lines: [{ sku: 'TEE-M', qty: 3 }] },
        { 'idempotency-key': 'order-1' },
      );
    const first = await reserve();
    const again = await reserve();
    expect([first.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);

    // the host's own route reads the same stock through the library
    const product = await fetch(`${shop.url}/shop/products/TEE-M`);
    expect(await product.json()).toEqual({ sku: 'TEE-M', in_stock: false });

    // the document names the paths as mounted
    const document = (await (await fetch(`${shop.url}/inventory/openapi.json`)).json()) as { paths: object };
    expect(Object.keys(document.paths)).toContain('/inventory/v1/reservations/{id}/commit');
    expect((await fetch(`${shop.url}/inventory/docs`, { redirect: 'manual' })).status).toBeLessThan(400);
  });

  it("refuses as stockroom does under the prefix, and leaves the host's other answers to the host", async () => {
    const unknownSku = await fetch(`${shop.url}/inventory/v1/stock/NOPE`, { headers: headers() });
    expect([unknownSku.status, unknownSku.headers.get('content-type')?.split(';')[0]]).toEqual([
      404,
      'application/problem+json',
    ]);
    expect(((await unknownSku.json()) as { code: string }).code).toBe('unknown_sku');
    // the query checks run under the prefix too: a parameter the route does not take is refused, not ignored
    const unknownParameter = await fetch(`${shop.url}/inventory/v1/warehouses?colour=red`, { headers: headers() });
    expect([unknownParameter.status, ((await unknownParameter.json()) as { code: string }).code]).toEqual([
      400,
      'validation_failed',
    ]);
    expect((await fetch(`${shop.url}/inventory/v1/warehouses`)).status).toBe(401);
    const noRoute = await fetch(`${shop.url}/inventory/v1/no-such-route`);
    expect([noRoute.status, noRoute.headers.get('content-type')?.split(';')[0]]).toEqual([
      404,
      'application/problem+json',
    ]);
    // outside the prefix, the host answers as it would without stockroom
    const elsewhere = await fetch(`${shop.url}/elsewhere`);
    expect([elsewhere.status, elsewhere.headers.get('content-type')]).toEqual([404, 'application/json; charset=utf-8']);
  });
});

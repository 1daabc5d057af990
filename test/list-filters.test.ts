import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

describe.each(drivers())('list filters over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  it('answer 404 for a warehouse, SKU or supplier that names nothing, not an empty page that reads as "none"', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const unknown: [path: string, code: string][] = [
      ['/v1/movements?warehouse=NOPE', 'not_found'],
      [`/v1/movements?sku=${sku}&warehouse=NOPE`, 'not_found'],
      ['/v1/alerts?warehouse=NOPE', 'not_found'],
      ['/v1/purchase-orders?supplier=NOPE', 'not_found'],
      ['/v1/purchase-orders?sku=NOPE-SKU', 'unknown_sku'],
    ];
    for (const [path, code] of unknown)
      expect(await call('GET', path), path).toMatchObject({ status: 404, body: { code } });
    // the same filters naming what exists answer a page
    for (const path of [
      `/v1/movements?warehouse=${wh[0]}`,
      `/v1/alerts?warehouse=${wh[0]}`,
      `/v1/purchase-orders?sku=${sku}`,
    ])
      expect((await call('GET', path)).status, path).toBe(200);
  });

  it('names a bad purchase-order status filter under /query, as every list names its query parameters', async () => {
    expect(await call('GET', '/v1/purchase-orders?status=BOGUS')).toMatchObject({
      status: 400,
      body: {
        code: 'validation_failed',
        errors: [{ path: '/query/status', message: expect.stringContaining('DRAFT') as unknown }],
      },
    });
    // the status is read in any case: a good one answers a page
    expect((await call('GET', '/v1/purchase-orders?status=draft')).status).toBe(200);
  });
});

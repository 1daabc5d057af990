import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { httpReceiver } from './support/receivers.js';
import { ADMIN_KEY, apiCall, useServer } from './support/served.js';

describe.each(drivers())('purchasing and alerts over HTTP, served by a real process on %s', (driver) => {
  const ctx = useServer(driver);
  const call = (method: string, path: string, options: Parameters<typeof apiCall>[3] = {}) =>
    apiCall(ctx.server, method, path, options);
  let warehouseKey = '';

  beforeAll(async () => {
    warehouseKey = (await call('POST', '/v1/keys', { body: { name: 'dock', scopes: ['warehouse'] } })).body[
      'key'
    ] as string;
    expect((await call('POST', '/v1/warehouses', { body: { code: 'HAM', name: 'Hamburg' } })).status).toBe(201);
    expect(
      (
        await call('POST', '/v1/suppliers', {
          body: { code: 'ACME', name: 'Acme Textiles', lead_time_days: 5, warehouse: 'HAM' },
        })
      ).status,
    ).toBe(201);
    expect((await call('POST', '/v1/warehouses/HAM/bins', { body: { code: 'A-01-01' } })).status).toBe(201);
  });

  it('runs a purchase order through its life, with problem documents for what is refused', async () => {
    const variant = await call('POST', '/v1/variants', {
      body: { sku: 'SOCK-1', product: { title: 'Sock' }, reorder_point: 10, reorder_qty: 30, supplier: 'ACME' },
    });
    expect(variant.body).toMatchObject({ supplier: 'ACME', reorder_point: 10 });
    const order = { supplier: 'ACME', warehouse: 'HAM', lines: [{ sku: 'SOCK-1', qty: 12 }] };
    const created = await call('POST', '/v1/purchase-orders', { body: order, headers: { 'idempotency-key': 'po-1' } });
    expect(created).toMatchObject({ status: 201, body: { status: 'DRAFT', supplier: 'ACME', warehouse: 'HAM' } });
    expect(
      (await call('POST', '/v1/purchase-orders', { body: order, headers: { 'idempotency-key': 'po-1' } })).body,
    ).toEqual(created.body);
    const id = created.body['id'] as number;

    const early = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      key: warehouseKey,
      body: { lines: [{ sku: 'SOCK-1', qty: 1 }] },
    });
    expect(early).toMatchObject({
      status: 409,
      type: expect.stringContaining('application/problem+json') as unknown,
      body: { code: 'invalid_transition', from: 'DRAFT', action: 'receive' },
    });
    expect((await call('POST', `/v1/purchase-orders/${id}/send`, { key: warehouseKey })).status).toBe(403);
    expect((await call('POST', `/v1/purchase-orders/${id}/send`)).body).toMatchObject({ status: 'SENT' });
    expect(
      (await call('POST', `/v1/purchase-orders/${id}/confirm`, { body: { expected_date: '2030-01-31' } })).body,
    ).toMatchObject({ status: 'CONFIRMED', expected_date: '2030-01-31' });
    expect((await call('GET', '/v1/stock/SOCK-1')).body).toMatchObject({
      total: { on_hand: 0, incoming: 12 },
      warehouses: [{ warehouse: 'HAM', incoming: 12 }],
    });

    const over = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      key: warehouseKey,
      body: { lines: [{ sku: 'SOCK-1', qty: 13 }] },
    });
    expect(over).toMatchObject({
      status: 400,
      body: { code: 'validation_failed', errors: [{ path: '/lines/0/qty' }] },
    });
    const receipt = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      key: warehouseKey,
      body: { lines: [{ sku: 'SOCK-1', qty: 5 }] },
    });
    expect(receipt.body).toMatchObject({
      order: { status: 'PARTIAL', lines: [{ received_qty: 5, outstanding: 7 }] },
      put_away: [{ sku: 'SOCK-1', qty: 5, bin: 'A-01-01', suggested: true }],
    });
    expect(
      (await call('GET', `/v1/purchase-orders?status=partial&supplier=ACME`, { key: warehouseKey })).body,
    ).toMatchObject({ items: [{ id }], next_cursor: null });
    expect((await call('POST', `/v1/purchase-orders/${id}/cancel`)).body).toMatchObject({
      status: 'CANCELLED',
      lines: [{ outstanding: 0 }],
    });
    expect((await call('GET', `/v1/purchase-orders/${id}`)).body).toMatchObject({ status: 'CANCELLED' });
    expect((await call('GET', '/v1/purchase-orders/999999')).body).toMatchObject({ code: 'not_found' });
    expect((await call('GET', '/v1/stock/SOCK-1')).body).toMatchObject({ total: { on_hand: 5, incoming: 0 } });

    // 5 on hand, reorder point 10: due; the run drafts 10 + 30 - 5
    expect((await call('GET', '/v1/replenishment/suggestions')).body).toMatchObject({
      items: [{ sku: 'SOCK-1', due: true, suggested_qty: 35, position: 5 }],
      window_days: 28,
      service_level: 0.95,
    });
    expect((await call('GET', '/v1/replenishment/suggestions?service_level=2')).body).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: '/query/service_level' }],
    });
    // a probability in range with too many decimals is told what is wrong with it
    expect((await call('GET', '/v1/replenishment/suggestions?service_level=0.9999999999')).body).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: '/query/service_level', message: expect.stringContaining('at most 6 decimals') as unknown }],
    });
    expect((await call('POST', '/v1/replenishment/run')).body).toMatchObject({
      orders: [{ supplier: 'ACME', origin: 'replenishment', lines: [{ sku: 'SOCK-1', qty: 35 }] }],
      skipped: [],
    });
    expect((await call('POST', '/v1/replenishment/run')).body).toMatchObject({
      orders: [],
      skipped: [{ sku: 'SOCK-1', reason: 'open_purchase_order' }],
    });
  });

  it("moves a cached storefront label as soon as an order's expected date becomes known", async () => {
    await call('POST', '/v1/variants', {
      body: { sku: 'BOOT-1', product: { title: 'Boot' }, backorder: { policy: 'preorder', limit: 20, lead_days: 30 } },
    });
    const label = async () =>
      ((await call('GET', '/v1/availability?sku=BOOT-1', { key: null })).body['items'] as { label: string }[])[0]
        ?.label;
    expect(await label()).toBe('Pre-order, ships in 30-32 days');
    expect(await label()).toBe('Pre-order, ships in 30-32 days'); // now cached (60 s)
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const po = await call('POST', '/v1/purchase-orders', {
      body: { supplier: 'ACME', warehouse: 'HAM', lines: [{ sku: 'BOOT-1', qty: 20 }], expected_date: soon },
    });
    await call('POST', `/v1/purchase-orders/${String(po.body['id'])}/send`);
    // the database announces the order's SKUs when it is sent: the cache drops them at once, not after its TTL
    await expect.poll(label).toBe('Pre-order, ships in 3-5 days');
  });

  it('configures webhooks and channels, delivers alerts and shows the log', async () => {
    const receiver = await httpReceiver();
    try {
      const hook = await call('POST', '/v1/webhooks', {
        body: { url: `${receiver.url}/in`, events: ['low_stock', 'out_of_stock'], secret: 'whsec-0123456789abcdef' },
      });
      expect(hook).toMatchObject({ status: 201, body: { kind: 'webhook', target: `${receiver.url}/***` } });
      expect(JSON.stringify(hook.body)).not.toContain('whsec');
      expect(
        (await call('POST', '/v1/webhooks', { body: { url: 'nope', events: [], secret: 'x' } })).body,
      ).toMatchObject({ code: 'validation_failed' });
      const slack = await call('POST', '/v1/channels', {
        body: { kind: 'slack', url: `${receiver.url}/slack/T1/B2/secret`, events: ['back_in_stock'] },
      });
      expect(slack).toMatchObject({ status: 201, body: { kind: 'slack' } });
      expect((await call('GET', '/v1/channels')).body['items']).toHaveLength(2);
      expect((await call('GET', '/v1/webhooks')).body['items']).toHaveLength(1);

      await call('POST', '/v1/variants', { body: { sku: 'CAP-1', product: { title: 'Cap' }, low_stock_threshold: 3 } });
      await call('POST', '/v1/stock/receive', { body: { sku: 'CAP-1', warehouse: 'HAM', qty: 4 } });
      await call('POST', '/v1/stock/adjust', {
        body: { sku: 'CAP-1', warehouse: 'HAM', delta: -1, reason: 'damaged' },
      });
      const got = await receiver.received(2);
      expect(
        got.map((r) => (JSON.parse(r.body) as { type: string; data: { warehouse: string | null } }).data.warehouse),
      ).toEqual(['HAM', null]);
      expect((await call('GET', '/v1/alerts?type=low_stock&sku=CAP-1')).body).toMatchObject({
        items: [{ warehouse: null, available: 3 }, { warehouse: 'HAM' }],
      });
      expect((await call('GET', '/v1/alerts?type=sold_out')).body).toMatchObject({ code: 'validation_failed' });
      await expect
        .poll(async () =>
          (
            (await call('GET', `/v1/deliveries?channel=${String(hook.body['id'])}`)).body['items'] as {
              status: string;
            }[]
          ).map((d) => d.status),
        )
        .toEqual(['delivered', 'delivered']);
      expect((await call('GET', '/v1/deliveries?status=dead')).body).toMatchObject({ items: [] });
      expect((await call('POST', '/v1/deliveries/1/retry')).body).toMatchObject({ code: 'invalid_transition' });

      expect((await call('DELETE', `/v1/webhooks/${String(hook.body['id'])}`)).status).toBe(204);
      expect((await call('DELETE', `/v1/webhooks/${String(hook.body['id'])}`)).body).toMatchObject({
        code: 'not_found',
      });
      expect((await call('DELETE', `/v1/webhooks/${String(slack.body['id'])}`)).status).toBe(404); // not a webhook
      expect((await call('DELETE', `/v1/channels/${String(slack.body['id'])}`)).status).toBe(204);
      const metrics = await (
        await fetch(`${ctx.server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      ).text();
      expect(metrics).toMatch(/^stockroom_deliveries_delivered_total 2$/m);
      expect(metrics).toMatch(/^stockroom_deliveries\{status="dead"\} 0$/m);
    } finally {
      await receiver.close();
    }
  });
});

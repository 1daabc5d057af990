import createClient from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import type { components, paths } from 'stockroom/openapi';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useListening } from './support/listening.js';

type Reservation = components['schemas']['Reservation'];

/**
 * A client generated from the document (openapi-typescript types, built into dist/openapi.d.ts by `npm run build`
 * and imported as an integrator would, from `stockroom/openapi`)
 * drives an order through its whole life against a real server, through openapi-fetch, with no cast: `tsc`
 * (`npm run typecheck`) checks every request and every answer's type here, so a document that stops describing
 * an answer or a header breaks the type check, and the run checks the answers themselves.
 */
describe.each(drivers())('a client generated from the OpenAPI document, on %s', (driver) => {
  const h = useStockroom(driver);
  const server = useListening(h, ['checkout', 'warehouse']);

  it('walks warehouse, variant, receive, reserve (replayed by its Idempotency-Key), commit and fulfil', async () => {
    const admin = (await h.s.keys.create({ name: uniq('typed admin'), scopes: ['admin'] })).key;
    const as = (key: string | undefined) =>
      createClient<paths>({ baseUrl: server.url, headers: { authorization: `Bearer ${key ?? ''}` } });
    const catalog = as(admin);
    const dock = as(server.keys.warehouse);
    const checkout = as(server.keys.checkout);
    const code = uniq('AMS');
    const sku = uniq('TEE');

    const warehouse = await catalog.POST('/v1/warehouses', { body: { code, name: 'Amsterdam', regions: ['EU'] } });
    expect(warehouse.response.status).toBe(201);
    const created: string | undefined = warehouse.data?.code;
    expect(created).toBe(code);

    const variant = await catalog.POST('/v1/variants', { body: { sku, product: { title: 'T-shirt, M' } } });
    const policy: 'deny' | 'backorder' | 'preorder' | undefined = variant.data?.backorder.policy;
    expect([variant.response.status, policy]).toEqual([201, 'deny']);

    const received = await dock.POST('/v1/stock/receive', { body: { sku, warehouse: code, qty: 5 } });
    const available: number | undefined = received.data?.available;
    expect(available).toBe(5);

    const order = { order_ref: uniq('order'), lines: [{ sku, qty: 2 }] };
    const key = uniq('reserve');
    const reserve = () =>
      checkout.POST('/v1/reservations', { params: { header: { 'Idempotency-Key': key } }, body: order });
    const first = await reserve();
    const held: Reservation | undefined = first.data;
    expect([first.response.status, held?.status, first.response.headers.get('idempotent-replayed')]).toEqual([
      201,
      'pending',
      null,
    ]);
    const replay = await reserve();
    expect([replay.response.status, replay.data?.id, replay.response.headers.get('idempotent-replayed')]).toEqual([
      201,
      held?.id,
      'true',
    ]);

    const id = held?.id ?? '';
    const committed = await checkout.POST('/v1/reservations/{id}/commit', { params: { path: { id } } });
    expect(committed.data?.status).toBe('committed');
    const fulfilled = await checkout.POST('/v1/reservations/{id}/fulfil', { params: { path: { id } }, body: {} });
    const shipped: number | undefined = fulfilled.data?.lines[0]?.fulfilled;
    expect([fulfilled.data?.status, shipped]).toEqual(['fulfilled', 2]);

    // a refusal is typed as the problem document it is
    const short = await checkout.POST('/v1/reservations', {
      body: { order_ref: uniq('order'), lines: [{ sku, qty: 99 }] },
    });
    const problem: components['schemas']['Problem'] | undefined = short.error;
    expect([short.response.status, problem?.code]).toEqual([409, 'insufficient_stock']);

    const stock = await dock.GET('/v1/stock/{sku}', { params: { path: { sku } } });
    expect(stock.data?.total).toMatchObject({ on_hand: 3, reserved: 0, available: 3 });
  });
});

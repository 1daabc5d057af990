import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/domain/errors.js';
import { stockroomApi } from '../src/index.js';
import { AvailabilityFeed } from '../src/services/availability-feed.js';
import { conformance, operationOf } from './support/contract.js';
import type { OpenApiDocument } from './support/contract.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { openStream } from './support/sse.js';

/** What one call was answered: the operation it reached, and whether its answer was what the document says. */
interface Seen {
  operationId: string;
  status: number;
  problems: string[];
}

/**
 * The OpenAPI document against the answers the API really gives. Every operation is called over HTTP on a real
 * server (the API mounted as a plugin, so the host's hook can read each answer before it is written), and each
 * answer must be one the document lists for its operation: its status, its media type, a body that validates
 * against the documented schema, and, since Fastify writes JSON bodies from those schemas, exactly the body the
 * handler returned, so no field is dropped by a response schema that forgot it.
 */
describe.each(drivers())('the OpenAPI document describes every answer, on %s', (driver) => {
  const h = useStockroom(driver);
  let host: FastifyInstance;
  let url = '';
  let document: OpenApiDocument;
  let admin = '';
  let storefrontKey = '';
  /** the payload each handler returned, by request id, before it was serialized */
  const returned = new Map<string, unknown>();
  const seen: Seen[] = [];

  beforeAll(async () => {
    admin = (await h.s.keys.create({ name: 'contract admin', scopes: ['admin'] })).key;
    storefrontKey = (await h.s.keys.create({ name: 'contract storefront', scopes: ['storefront'] })).key;
    host = Fastify();
    host.addHook('preSerialization', async (request, _reply, payload) => {
      returned.set(request.id, payload);
      return payload;
    });
    await host.register(stockroomApi, {
      stockroom: h.s,
      storefront: { feed: new AvailabilityFeed(h.s.availability) },
    });
    await host.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(host.server.address() as AddressInfo).port}`;
    document = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await host.close();
  });

  /** Calls the API and checks the answer against the document; the parsed JSON body (or the text). */
  async function call(
    method: string,
    path: string,
    options: {
      body?: unknown;
      raw?: string;
      type?: string;
      key?: string | null;
      headers?: Record<string, string>;
    } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const key = options.key === undefined ? admin : options.key;
    const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers };
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const found = operationOf(document, method, path);
    if (!found) throw new Error(`the document has no operation for ${method} ${path}`);
    const { operation } = found;
    const problems: string[] = [];
    const documented = operation.responses[String(res.status)];
    const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
    let parsed: Record<string, unknown> = {};
    if (!documented) problems.push(`status ${res.status} is not documented`);
    else if (res.status === 204) {
      if (text !== '') problems.push('a 204 has a body');
    } else {
      const media = documented.content?.[type];
      if (!media) problems.push(`media type ${type} is not documented for ${res.status}`);
      else if (type === 'application/json' || type === 'application/problem+json') {
        parsed = JSON.parse(text) as Record<string, unknown>;
        problems.push(...conformance(document, media.schema, parsed));
        const before = returned.get(res.headers.get('x-request-id') ?? '');
        // what the handler returned, as JSON: the answer written from the schema must be exactly that
        if (before !== undefined) expect(parsed, `${method} ${path}`).toEqual(JSON.parse(JSON.stringify(before)));
        if (type === 'application/problem+json') {
          const code = parsed.code as keyof typeof ERROR_CODES;
          if (ERROR_CODES[code].status !== res.status) problems.push(`code ${code} answered with ${res.status}`);
        }
      }
    }
    if (res.headers.get('idempotent-replayed') !== null && !documented?.headers?.['Idempotent-Replayed'])
      problems.push('Idempotent-Replayed is not documented for this answer');
    seen.push({ operationId: operation.operationId, status: res.status, problems });
    expect(problems, `${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`).toEqual([]);
    return { status: res.status, body: parsed, headers: res.headers };
  }

  it('answers every operation as documented: success, replays and refusals', async () => {
    const ams = uniq('AMS');
    const ber = uniq('BER');
    const sku = uniq('TEE');
    const other = uniq('MUG');
    const supplier = uniq('SUP');

    // keys: created (and replayed), listed, revoked
    const keyIdem = uniq('key');
    const key = await call('POST', '/v1/keys', {
      body: { name: 'checkout', scopes: ['checkout'] },
      headers: { 'idempotency-key': keyIdem },
    });
    expect(key.status).toBe(201);
    const replay = await call('POST', '/v1/keys', {
      body: { name: 'checkout', scopes: ['checkout'] },
      headers: { 'idempotency-key': keyIdem },
    });
    expect([replay.status, replay.body.replayed, replay.headers.get('idempotent-replayed')]).toEqual([
      200,
      true,
      'true',
    ]);
    await call('GET', '/v1/keys');
    await call('POST', `/v1/keys/${String(key.body.id)}/revoke`);

    // the catalog
    const idem = uniq('wh');
    expect(
      (await call('POST', '/v1/warehouses', { body: { code: ams, name: 'A' }, headers: { 'idempotency-key': idem } }))
        .status,
    ).toBe(201);
    const again = await call('POST', '/v1/warehouses', {
      body: { code: ams, name: 'A' },
      headers: { 'idempotency-key': idem },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await call('POST', '/v1/warehouses', { body: { code: ber, name: 'B', lat: 52.5, lon: 13.4, regions: ['EU'] } });
    await call('GET', '/v1/warehouses');
    await call('POST', `/v1/warehouses/${ams}/bins`, { body: { code: 'A-01-01' } });
    await call('POST', '/v1/variants', {
      body: { sku, product: { title: 'Tee' }, attributes: { size: 'M', cotton: true } },
    });
    await call('POST', '/v1/variants', {
      body: { sku: other, product: { title: 'Mug' }, reorder_point: 5, reorder_qty: 10 },
    });
    await call('PUT', `/v1/variants/${sku}`, { body: { low_stock_threshold: 2 } });
    await call('GET', '/v1/variants?limit=2');
    await call('GET', `/v1/variants/${sku}`);
    // kits: defined before any stock, reserved (its line shows its components) and made plain again
    const kit = `${sku}-KIT`;
    await call('POST', '/v1/variants', { body: { sku: kit, product: { title: 'Kit' } } });
    await call('PUT', `/v1/kits/${kit}`, { body: { components: [{ sku, qty: 2 }] } });
    await call('GET', '/v1/kits');
    await call('GET', `/v1/kits/${kit}`);

    // stock
    await call('POST', '/v1/stock/receive', { body: { sku, warehouse: ams, qty: 20, bin: 'A-01-01' } });
    await call('POST', '/v1/stock/receive', { body: { sku, warehouse: ber, qty: 5 } });
    const kitOrder = await call('POST', '/v1/reservations', {
      body: { order_ref: `${kit}-1`, lines: [{ sku: kit, qty: 1 }] },
    });
    await call('POST', `/v1/reservations/${String(kitOrder.body.id)}/cancel`);
    await call('DELETE', `/v1/kits/${kit}`);
    await call('POST', '/v1/stock/adjust', { body: { sku, warehouse: ams, delta: -1, reason: 'damaged' } });
    await call('POST', '/v1/stock/count', { body: { sku, warehouse: ams, counted: 19 } });
    await call('POST', '/v1/stock/transfer', { body: { sku, from: ams, to: ber, qty: 1 } });
    await call('POST', '/v1/returns', {
      body: { sku, warehouse: ams, qty: 1, condition: 'resellable', reference: 'r-1' },
    });
    await call('POST', '/v1/stock/move-state', {
      body: { sku, warehouse: ams, qty: 1, from: 'available', to: 'damaged', reason: 'damaged' },
    });
    await call('GET', `/v1/stock/${sku}`);
    await call('GET', '/v1/export/stock.csv');
    await call('GET', `/v1/stock?warehouse=${ams}&sort=available&order=desc&limit=1`);
    await call('GET', `/v1/stock/low?warehouse=${ams}`);
    await call('GET', `/v1/stock/export.csv?warehouse=${ams}&q=${sku}`);
    await call('GET', `/v1/stock/export.xlsx?warehouse=${ams}&q=${sku}`);
    await call('GET', `/v1/stock/low/export.csv?warehouse=${ams}`);
    await call('GET', `/v1/stock/low/export.xlsx?warehouse=${ams}`);
    await call('POST', '/v1/import/stock/preview', {
      raw: `sku,warehouse,on_hand\n${other},${ams},3\nNOPE,${ams},1\n`,
      type: 'text/csv',
    });
    await call('POST', '/v1/import/stock', { raw: `sku,warehouse,on_hand\n${other},${ams},3\n`, type: 'text/csv' });
    const source = uniq('wms');
    await h.s.sync.configureSource(source, null);
    await call('POST', '/v1/stock/sync', { body: { source, items: [{ sku: other, warehouse: ber, on_hand: 2 }] } });
    await call('GET', `/v1/movements?sku=${sku}&limit=3`);

    // a reservation through its life
    const reserve = { order_ref: uniq('order'), lines: [{ sku, qty: 2 }] };
    const reserveKey = uniq('reserve');
    const held = await call('POST', '/v1/reservations', { body: reserve, headers: { 'idempotency-key': reserveKey } });
    expect(held.status).toBe(201);
    const replayed = await call('POST', '/v1/reservations', {
      body: reserve,
      headers: { 'idempotency-key': reserveKey },
    });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const id = String(held.body.id);
    await call('GET', `/v1/reservations/${id}`);
    await call('GET', `/v1/reservations?order_ref=${reserve.order_ref}`);
    await call('PATCH', `/v1/reservations/${id}`, { body: { lines: [{ sku, qty: 3 }] } });
    const holding = (await call('GET', `/v1/reservations/${id}`)).body.lines as { warehouse: string }[];
    const from = holding[0]?.warehouse ?? ams;
    await call('POST', `/v1/reservations/${id}/move`, { body: { sku, to: from === ams ? ber : ams } });
    await call('POST', `/v1/reservations/${id}/commit`);
    await call('POST', `/v1/reservations/${id}/fulfil`, { body: { lines: [{ sku, qty: 2 }] } });
    await call('POST', `/v1/reservations/${id}/unfulfil`, { body: { lines: [{ sku, qty: 1 }] } });
    await call('POST', `/v1/reservations/${id}/cancel`);

    // the warehouse floor: locations, put-away, a pick list, a replenishment confirmed
    await call('POST', `/v1/warehouses/${ams}/locations`, { body: { code: 'P-01-01', type: 'pick_face' } });
    await call('PUT', `/v1/warehouses/${ams}/locations/P-01-01`, { body: { max_weight_g: 100000 } });
    await call('PUT', `/v1/warehouses/${ams}/locations/P-01-01/minimum`, { body: { sku, min_qty: 2 } });
    await call('PUT', `/v1/warehouses/${ams}/capacity`, { body: { capacity_cm3: 1000000 } });
    await call('PUT', `/v1/variants/${sku}/measures`, { body: { weight_g: 200, volume_cm3: 500 } });
    await call('GET', `/v1/variants/${sku}/measures`);
    await call('GET', `/v1/warehouses/${ams}/locations?type=pick_face`);
    await call('GET', `/v1/warehouses/${ams}/locations/P-01-01`);
    await call('GET', `/v1/warehouses/${ams}/put-away?sku=${sku}&qty=3`);
    await call('GET', `/v1/warehouses/${ams}/replenishments`);
    await call('POST', `/v1/warehouses/${ams}/relocations`, { body: { sku, from: 'A-01-01', to: 'P-01-01', qty: 2 } });
    await call('POST', `/v1/warehouses/${ams}/locations/P-01-01/counts`, { body: { sku, counted: 3 } });
    await call('GET', `/v1/warehouses/${ams}/count-plan?method=oldest&limit=5`);
    await call('GET', `/v1/warehouses/${ams}/counts?since=2026-01-01`);
    const picked = await call('POST', '/v1/reservations', {
      body: { order_ref: uniq('pick'), lines: [{ sku, qty: 1 }] },
    });
    await call('GET', `/v1/reservations/${String(picked.body.id)}/pick-list`);
    await call('POST', `/v1/reservations/${String(picked.body.id)}/cancel`);

    // purchasing
    await call('POST', '/v1/suppliers', {
      body: { code: supplier, name: 'Supplier', lead_time_days: 7, warehouse: ams },
    });
    await call('GET', '/v1/suppliers');
    const order = await call('POST', '/v1/purchase-orders', {
      body: { supplier, warehouse: ams, lines: [{ sku, qty: 10 }] },
    });
    const po = String(order.body.id);
    await call('GET', '/v1/purchase-orders?limit=5');
    await call('GET', `/v1/purchase-orders/${po}`);
    await call('POST', `/v1/purchase-orders/${po}/costs`, { body: { lines: [{ sku, unit_cost: 450 }] } });
    await call('POST', `/v1/purchase-orders/${po}/send`);
    await call('POST', `/v1/purchase-orders/${po}/confirm`, { body: { expected_date: '2026-02-01' } });
    await call('POST', `/v1/purchase-orders/${po}/receive`, { body: { lines: [{ sku, qty: 4 }] } });
    await call('POST', `/v1/purchase-orders/${po}/cancel`);
    await call('GET', '/v1/valuation?group_by=category');
    await call('GET', '/v1/valuation/export.csv?as_of=2026-01-15');
    await call('GET', '/v1/valuation/export.xlsx');
    await call('PUT', `/v1/variants/${other}`, { body: { supplier } });
    await call('GET', `/v1/replenishment/suggestions?sku=${other}`);
    await call('POST', '/v1/replenishment/run');

    // alerts, channels, deliveries
    await call('GET', '/v1/alerts?limit=5');
    const hook = await call('POST', '/v1/webhooks', {
      body: { url: 'http://127.0.0.1:9/hook', events: ['stock.*'], secret: 'a-secret-of-sixteen-chars' },
    });
    await call('GET', '/v1/webhooks');
    await call('GET', '/v1/deliveries?limit=5');
    const channel = await call('POST', '/v1/channels', {
      body: { kind: 'slack', url: 'http://127.0.0.1:9/slack', events: ['low_stock'] },
    });
    await call('GET', '/v1/channels');
    await call('DELETE', `/v1/channels/${String(channel.body.id)}`);
    await call('DELETE', `/v1/webhooks/${String(hook.body.id)}`);
    await call('POST', '/v1/deliveries/999999999/retry');

    // archiving
    const spare = uniq('OLD');
    await call('POST', '/v1/warehouses', { body: { code: spare, name: 'Old' } });
    await call('POST', `/v1/warehouses/${spare}/archive`);
    await call('POST', `/v1/warehouses/${spare}/unarchive`);
    const unused = uniq('OLDSKU');
    await call('POST', '/v1/variants', { body: { sku: unused, product: { title: 'Old' } } });
    await call('POST', `/v1/variants/${unused}/archive`);
    await call('POST', `/v1/variants/${unused}/unarchive`);

    // operations and the storefront
    await call('POST', '/v1/admin/reconcile');
    await call('GET', '/healthz', { key: null });
    await call('GET', '/metrics');
    await call('GET', `/v1/availability?sku=${sku}&sku=${other}`, { key: null });
    await call('GET', '/widget.js', { key: null });
    await call('GET', '/demo/storefront', { key: null });
    // the admin console: its pages are one page, its script is named in the page (`/`, which points to it, is the
    // stockroom server's own: a host keeps its `/`)
    const consolePage = await (await fetch(`${url}/admin`)).text();
    await call('GET', '/admin', { key: null });
    await call('GET', '/admin/stock', { key: null });
    await call('GET', '/admin/variants/TEE-M', { key: null });
    await call('GET', /\/admin\/assets\/[^"]+\.js/.exec(consolePage)?.[0] ?? '/admin/assets/not-built.js', {
      key: null,
    });
    expect((await call('GET', '/v1/keys/me', { key: storefrontKey })).body.scopes).toEqual(['storefront']);
    const stream = await openStream(`${url}/v1/availability/stream?sku=${sku}`);
    expect(stream.status).toBe(200);
    expect(String(stream.headers['content-type'])).toMatch(/^text\/event-stream/);
    expect(document.paths['/v1/availability/stream']?.get?.responses['200']?.content).toHaveProperty(
      'text/event-stream',
    );
    await stream.next();
    await stream.close();
    seen.push({ operationId: 'streamAvailability', status: 200, problems: [] });

    // refusals: each a problem document the document lists for its operation
    expect((await call('POST', '/v1/warehouses', { body: { code: '' } })).status).toBe(400);
    expect((await call('GET', '/v1/keys', { key: null })).status).toBe(401);
    expect((await call('GET', '/v1/keys', { key: storefrontKey })).status).toBe(403);
    expect((await call('GET', '/v1/stock/NO-SUCH-SKU')).status).toBe(404);
    expect(
      (await call('POST', '/v1/stock/adjust', { body: { sku, warehouse: ber, delta: -1000, reason: 'other' } })).status,
    ).toBe(409);
    expect(
      (
        await call('POST', '/v1/warehouses', {
          body: { code: uniq('X'), name: 'X' },
          headers: { 'idempotency-key': idem },
        })
      ).status,
    ).toBe(422);
    expect((await call('POST', '/v1/stock/receive', { raw: 'qty=1', type: 'text/plain' })).status).toBe(415);

    // every operation of the document was answered with its success at least once
    const succeeded = new Set(seen.filter((one) => one.status < 300).map((one) => one.operationId));
    const operations = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((operation) => operation.operationId),
    );
    // a delivery can be retried only once it is dead: its 404 was checked above, its 202 in test/alert-delivery
    expect(operations.filter((operationId) => !succeeded.has(operationId))).toEqual(['retryDelivery']);
  });
});

import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { ADMIN_KEY, useServer } from './support/served.js';

interface Reply {
  status: number;
  type: string;
  body: Record<string, unknown> & { code?: string };
}

describe.each(drivers())('the HTTP API, served by a real process on %s', (driver) => {
  const ctx = useServer(driver);
  const keys: Record<string, string> = { admin: ADMIN_KEY };

  async function call(
    method: string,
    path: string,
    options: { key?: string | null | undefined; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(
      `${ctx.server.url}${path}`,
      body === undefined ? { method, headers } : { method, headers, body },
    );
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: text ? (JSON.parse(text) as Reply['body']) : {},
    };
  }

  /** the warehouse client receiving `qty` of `sku` into `warehouse` */
  const receive = (sku: string, warehouse: string, qty: number) =>
    call('POST', '/v1/stock/receive', { key: keys.warehouse, body: { sku, warehouse, qty } });

  beforeAll(async () => {
    for (const scope of ['checkout', 'warehouse', 'storefront']) {
      const created = await call('POST', '/v1/keys', { body: { name: `${scope} client`, scopes: [scope] } });
      expect(created.status).toBe(201);
      keys[scope] = created.body.key as string;
    }
    expect(
      (
        await call('POST', '/v1/warehouses', {
          body: { code: 'AMS', name: 'Amsterdam', lat: 52.37, lon: 4.9, priority: 2 },
        })
      ).status,
    ).toBe(201);
    expect(
      (await call('POST', '/v1/warehouses', { body: { code: 'BER', name: 'Berlin', lat: 52.52, lon: 13.4 } })).status,
    ).toBe(201);
    for (const sku of ['TEE-M', 'FLASH-1', 'ТЕЕ-黒'])
      expect((await call('POST', '/v1/variants', { body: { sku, product: { title: sku } } })).status).toBe(201);
  });

  it('drives an order through its whole life over HTTP', async () => {
    const w = { key: keys.warehouse };
    expect((await receive('TEE-M', 'AMS', 10)).body).toMatchObject({ on_hand: 10, available: 10 });
    expect((await receive('TEE-M', 'BER', 4)).status).toBe(200);
    const c = { key: keys.checkout };
    const r = await call('POST', '/v1/reservations', {
      ...c,
      body: { order_ref: 'web-1', lines: [{ sku: 'TEE-M', qty: 12 }] },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      status: 'pending',
      lines: [
        { warehouse: 'AMS', qty: 10 },
        { warehouse: 'BER', qty: 2 },
      ],
    });
    const id = r.body.id as string;
    expect((await call('POST', `/v1/reservations/${id}/commit`, c)).body).toMatchObject({
      status: 'committed',
      expires_at: null,
    });
    expect(
      (
        await call('POST', `/v1/reservations/${id}/fulfil`, {
          ...c,
          body: { lines: [{ sku: 'TEE-M', qty: 10, warehouse: 'AMS' }] },
        })
      ).body,
    ).toMatchObject({
      status: 'partially_fulfilled',
    });
    expect((await call('POST', `/v1/reservations/${id}/cancel`, c)).body).toMatchObject({
      status: 'released',
      lines: [{ fulfilled: 10 }, { released: 2 }],
    });
    expect((await call('GET', `/v1/reservations/${id}`, c)).body.status).toBe('released');
    const stock = await call('GET', '/v1/stock/TEE-M', w);
    expect(stock.body).toMatchObject({ total: { on_hand: 4, reserved: 0, available: 4 } });
    const movements = await call('GET', '/v1/movements?sku=TEE-M&limit=2', w);
    expect(movements.body).toMatchObject({ items: [{ type: 'release' }, { type: 'fulfil' }] });
    expect(typeof movements.body.next_cursor).toBe('string');
  });

  it('answers every error with a problem document and its code', async () => {
    const w = { key: keys.warehouse };
    const c = { key: keys.checkout };
    const cases: [Promise<Reply>, number, string][] = [
      [
        call('POST', '/v1/stock/receive', { ...w, body: { sku: 'TEE-M', warehouse: 'AMS', qty: 0 } }),
        400,
        'validation_failed',
      ],
      [call('GET', '/v1/stock/TEE-M', { key: null }), 401, 'unauthorized'],
      [call('GET', '/v1/stock/TEE-M', { key: 'sr_nope' }), 401, 'unauthorized'],
      [call('POST', '/v1/stock/receive', { ...c, body: { sku: 'TEE-M', warehouse: 'AMS', qty: 1 } }), 403, 'forbidden'],
      [call('POST', '/v1/warehouses', { ...w, body: { code: 'X', name: 'X' } }), 403, 'forbidden'],
      [call('GET', '/v1/stock/NOPE', w), 404, 'unknown_sku'],
      [call('GET', '/v1/reservations/00000000-0000-4000-8000-000000000000', c), 404, 'not_found'],
      [call('GET', '/v1/nothing-here'), 404, 'not_found'],
      [
        call('POST', '/v1/reservations', { ...c, body: { order_ref: 'x', lines: [{ sku: 'TEE-M', qty: 999 }] } }),
        409,
        'insufficient_stock',
      ],
      [
        call('POST', '/v1/stock/adjust', {
          ...w,
          body: { sku: 'TEE-M', warehouse: 'BER', delta: -1, reason: 'damaged', expected_on_hand: 99 },
        }),
        409,
        'stale_quantity',
      ],
      [call('POST', '/v1/warehouses', { body: { code: 'AMS', name: 'again' } }), 409, 'already_exists'],
      [
        call('POST', '/v1/stock/sync', {
          ...w,
          body: {
            source: 'wms',
            items: Array.from({ length: 40_000 }, (_, i) => ({ sku: `SKU-${i}`, warehouse: 'AMS', on_hand: 1 })),
          },
        }),
        413,
        'payload_too_large',
      ],
      [call('POST', '/v1/stock/receive', { ...w, raw: '{"sku": "TEE-M", ' }), 400, 'validation_failed'],
      [
        call('POST', '/v1/stock/receive', { ...w, body: { sku: 'TEE-M', warehouse: 'AMS', qty: '5' } }),
        400,
        'validation_failed',
      ],
      [
        call('POST', '/v1/stock/receive', { ...w, body: { sku: 'TEE-M', warehouse: 'AMS', qty: 5, colour: 'red' } }),
        400,
        'validation_failed',
      ],
      [call('POST', '/v1/stock/receive', { ...w, body: [1, 2, 3] }), 400, 'validation_failed'],
      [
        call('POST', '/v1/stock/receive', { ...w, raw: 'sku=TEE-M', headers: { 'content-type': 'text/plain' } }),
        415,
        'unsupported_media_type',
      ],
      [call('GET', "/v1/stock/x'%20OR%201=1--", w), 404, 'unknown_sku'],
      [call('POST', '/v1/reservations/not-a-uuid/commit', c), 400, 'validation_failed'],
    ];
    // a path parameter and a query parameter a use case refuses are named as the API names them
    const notAnId = await call('POST', '/v1/reservations/not-a-uuid/commit', c);
    expect(notAnId.body.errors).toEqual([{ path: '/params/id', message: 'not a reservation id (a UUID)' }]);
    const farAway = await call('GET', '/v1/availability?sku=TEE-M&ship_to=91,0');
    expect(farAway.body).toMatchObject({ code: 'validation_failed', errors: [{ path: '/query/ship_to' }] });
    const offScale = await call('GET', '/v1/replenishment/suggestions?service_level=1.5');
    expect(offScale.body).toMatchObject({ code: 'validation_failed', errors: [{ path: '/query/service_level' }] });
    for (const [reply, status, code] of cases) {
      const r = await reply;
      expect({ status: r.status, code: r.body.code }).toEqual({ status, code });
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ type: `urn:stockroom:problem:${code}`, status });
      expect(typeof r.body.detail).toBe('string');
    }
    const invalid = await call('POST', '/v1/stock/receive', {
      ...w,
      body: { sku: 'TEE-M', warehouse: 'AMS', qty: 0, extra: 1 },
    });
    expect(invalid.body.errors).toEqual(
      expect.arrayContaining([
        { path: '/qty', message: 'must be >= 1' },
        { path: '/extra', message: 'unknown field' },
      ]),
    );
    const short = await call('POST', '/v1/reservations', {
      ...c,
      body: { order_ref: 'x', lines: [{ sku: 'TEE-M', qty: 999 }] },
    });
    expect(short.body.lines).toEqual([{ sku: 'TEE-M', requested: 999, available: 4 }]);
    const r = await call('POST', '/v1/reservations', {
      ...c,
      body: { order_ref: 'y', lines: [{ sku: 'TEE-M', qty: 1 }] },
    });
    await call('POST', `/v1/reservations/${String(r.body.id)}/cancel`, c);
    expect((await call('POST', `/v1/reservations/${String(r.body.id)}/fulfil`, c)).body).toMatchObject({
      code: 'invalid_transition',
      from: 'released',
    });
  });

  it('tells shoppers a status and label without a key, and refuses what it cannot answer', async () => {
    const res = await call('GET', '/v1/availability?sku=FLASH-1&sku=TEE-M', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        expect.objectContaining({ sku: 'FLASH-1', status: 'out_of_stock', label: 'Out of stock', available: 0 }),
        expect.objectContaining({ sku: 'TEE-M' }),
      ],
    });
    expect((await call('GET', '/v1/availability?sku=TEE-M&sku=NOPE', { key: null })).body).toMatchObject({
      status: 404,
      code: 'unknown_sku',
    });
    expect((await call('GET', '/v1/availability', { key: null })).body).toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
    const many = Array.from({ length: 101 }, (_, i) => `sku=S${i}`).join('&');
    expect((await call('GET', `/v1/availability?${many}`, { key: null })).body).toMatchObject({
      status: 400,
      errors: [{ path: '/query/sku' }],
    });
    expect((await call('GET', '/v1/availability?sku=TEE-M&region=EU&ship_to=52.5,13.4', { key: null })).status).toBe(
      200,
    );
    expect((await call('GET', '/v1/availability?sku=TEE-M&ship_to=somewhere', { key: null })).body).toMatchObject({
      status: 400,
      errors: [{ path: '/query/ship_to' }],
    });
    expect((await call('GET', '/v1/availability?sku=TEE-M&colour=red', { key: null })).body).toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
  });

  it('refuses a body on a GET route as it does on any route that takes none; no body or {} is fine', async () => {
    /** a GET with a body, which fetch will not send */
    const getWith = async (path: string, body: string, type = 'application/json') => {
      const res = await request(`${ctx.server.url}${path}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': type },
        body,
      });
      return { status: res.statusCode, body: (await res.body.json()) as Reply['body'] };
    };
    for (const path of ['/v1/stock/TEE-M', '/v1/movements?sku=TEE-M', '/v1/keys']) {
      expect((await getWith(path, '{"x":1}')).body).toMatchObject({
        status: 400,
        code: 'validation_failed',
        detail: expect.stringContaining('this endpoint takes no body') as unknown,
      });
      expect((await getWith(path, '"text"')).status).toBe(400);
      expect((await getWith(path, 'x=1', 'application/x-www-form-urlencoded')).body).toMatchObject({
        status: 415,
        code: 'unsupported_media_type',
      });
      expect((await getWith(path, '{}')).status).toBe(200);
      expect((await getWith(path, '')).status).toBe(200); // a Content-Type set on every request is no body
      expect((await call('GET', path)).status).toBe(200);
    }
    expect((await getWith('/v1/availability?sku=TEE-M', '{"x":1}')).status).toBe(400);
    // nor on a route that takes none and is not a GET, as docs/api.md says: no body is fine
    const spare = await call('POST', '/v1/keys', { body: { name: 'revoked without a body', scopes: ['storefront'] } });
    const revoked = await request(`${ctx.server.url}/v1/keys/${String(spare.body.id)}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    });
    expect([revoked.statusCode, ((await revoked.body.json()) as { revoked_at: unknown }).revoked_at]).toEqual([
      200,
      expect.any(String),
    ]);
  });

  it('lets a storefront page on any origin read every answer of the public routes, refusals included', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `sku=S${i}`).join('&');
    const answers: [string, number][] = [
      ['/v1/availability?sku=TEE-M', 200],
      ['/v1/availability?sku=NOPE', 404],
      ['/v1/availability', 400],
      ['/v1/availability?sku=TEE-M&colour=red', 400],
      [`/v1/availability?${many}`, 400],
      ['/v1/availability/stream?sku=NOPE', 404],
      ['/v1/availability/stream', 400],
      ['/v1/availability/stream?sku=TEE-M&colour=red', 400],
    ];
    for (const [path, status] of answers) {
      const res = await fetch(`${ctx.server.url}${path}`, { headers: { origin: 'https://shop.example' } });
      await res.arrayBuffer();
      expect([path, res.status, res.headers.get('access-control-allow-origin')]).toEqual([path, status, '*']);
    }
  });

  it('serves availability from its cache, and drops a SKU from it when the database announces a change', async () => {
    expect(
      (
        await call('POST', '/v1/variants', {
          body: { sku: 'CACHED-1', product: { title: 'Cached' }, low_stock_threshold: 2 },
        })
      ).status,
    ).toBe(201);
    await receive('CACHED-1', 'AMS', 5);
    const ask = async () =>
      ((await call('GET', '/v1/availability?sku=CACHED-1', { key: null })).body as { items: { available: number }[] })
        .items[0]?.available;
    const hits = async () =>
      Number(
        /^stockroom_availability_cache_hits_total (\d+)$/m.exec(
          await (
            await fetch(`${ctx.server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
          ).text(),
        )?.[1],
      );
    const hitsBefore = await hits();
    const first = await ask();
    await ask();
    expect(await hits()).toBeGreaterThan(hitsBefore);
    const r = await call('POST', '/v1/reservations', {
      key: keys.checkout,
      body: { order_ref: 'cache-1', lines: [{ sku: 'CACHED-1', qty: 2 }] },
    });
    // the announcement reaches the server's cache right after the commit; from outside, ask until it shows
    let now = await ask();
    for (let i = 0; i < 200 && now === first; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      now = await ask();
    }
    expect([first, now]).toEqual([5, 3]);
    await call('POST', `/v1/reservations/${String(r.body.id)}/cancel`, { key: keys.checkout });
  });

  it('accepts unicode SKUs end to end', async () => {
    const sku = encodeURIComponent('ТЕЕ-黒');
    expect((await receive('ТЕЕ-黒', 'BER', 2)).status).toBe(200);
    expect((await call('GET', `/v1/stock/${sku}`, { key: keys.warehouse })).body).toMatchObject({
      sku: 'ТЕЕ-黒',
      total: { on_hand: 2 },
    });
  });

  it("keeps a caller's sensible X-Request-Id and answers a fresh one in place of an oversized or odd one", async () => {
    const idOf = async (given: string) =>
      (await fetch(`${ctx.server.url}/healthz`, { headers: { 'x-request-id': given } })).headers.get('x-request-id');
    expect(await idOf('trace-4bf92f3577b34da6.a3ce929d0e0e4736')).toBe('trace-4bf92f3577b34da6.a3ce929d0e0e4736');
    for (const odd of ['x'.repeat(15_000), 'a b', '<script>']) {
      const id = await idOf(odd);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('refuses a query parameter on the operational routes, which take none', async () => {
    for (const path of ['/healthz?x=1', '/metrics?foo=1', '/openapi.json?foo=1']) {
      const res = await fetch(`${ctx.server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as Reply['body']).code).toBe('validation_failed');
    }
    for (const path of ['/healthz', '/metrics', '/openapi.json']) {
      const res = await fetch(`${ctx.server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status, path).toBe(200);
      await res.text();
    }
  });

  it('refuses an Idempotency-Key that is empty or given twice, and changes nothing', async () => {
    const before = (await call('GET', '/v1/stock/TEE-M', { key: keys.warehouse })).body;
    // undici sends an array as the header given once per value, as a client that set it twice would
    for (const key of ['', '   ', ['a1', 'b1']]) {
      const res = await request(`${ctx.server.url}/v1/stock/receive`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ sku: 'TEE-M', warehouse: 'BER', qty: 1 }),
      });
      const body = (await res.body.json()) as Reply['body'] & { errors?: { path: string; message: string }[] };
      expect(res.statusCode).toBe(400);
      expect(body.code).toBe('validation_failed');
      expect(body.errors?.[0]?.path).toBe('/headers/idempotency-key');
    }
    expect((await call('GET', '/v1/stock/TEE-M', { key: keys.warehouse })).body).toEqual(before);
  });

  it('replays a POST with the same Idempotency-Key and body, and refuses it with another body', async () => {
    const c = { key: keys.checkout, headers: { 'idempotency-key': 'order-77-attempt' } };
    const first = await call('POST', '/v1/reservations', {
      ...c,
      body: { order_ref: 'web-77', lines: [{ sku: 'TEE-M', qty: 1 }] },
    });
    const again = await call('POST', '/v1/reservations', {
      ...c,
      body: { lines: [{ qty: 1, sku: 'TEE-M' }], order_ref: 'web-77' },
    });
    expect(again).toEqual(first);
    expect((await call('GET', '/v1/stock/TEE-M', { key: keys.warehouse })).body).toMatchObject({
      total: { reserved: 1 },
    });
    const other = await call('POST', '/v1/reservations', {
      ...c,
      body: { order_ref: 'web-78', lines: [{ sku: 'TEE-M', qty: 1 }] },
    });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_conflict' } });
    // another client's identical key is its own
    const admin = await call('POST', '/v1/reservations', {
      headers: { 'idempotency-key': 'order-77-attempt' },
      body: { order_ref: 'web-79', lines: [{ sku: 'TEE-M', qty: 1 }] },
    });
    expect(admin.status).toBe(201);
    for (const id of [first.body.id, admin.body.id])
      await call('POST', `/v1/reservations/${String(id)}/cancel`, { key: keys.checkout });
  });

  it('500 concurrent HTTP reservations for 100 units: exactly 100 succeed', async () => {
    expect((await receive('FLASH-1', 'AMS', 100)).status).toBe(200);
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        call('POST', '/v1/reservations', {
          key: keys.checkout,
          body: { order_ref: `flash-${i}`, lines: [{ sku: 'FLASH-1', qty: 1 }] },
        }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBe(100);
    expect(statuses.filter((s) => s === 409).length).toBe(400);
    expect((await call('GET', '/v1/stock/FLASH-1', { key: keys.warehouse })).body).toMatchObject({
      total: { on_hand: 100, reserved: 100, available: 0 },
    });
  });

  it('exports stock as CSV and imports a stock take, all rows or none', async () => {
    const auth = { authorization: `Bearer ${keys.warehouse!}` };
    const exported = await fetch(`${ctx.server.url}/v1/export/stock.csv`, { headers: auth });
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await exported.text();
    expect(text.split('\n')[0]).toBe('sku,warehouse,on_hand,reserved,available');
    expect(text).toMatch(/^TEE-M,AMS,\d+,\d+,\d+$/m);
    const post = (body: string) =>
      fetch(`${ctx.server.url}/v1/import/stock?reference=take-1`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'text/csv' },
        body,
      });
    const bad = await post('sku,warehouse,on_hand\nTEE-M,AMS,3\nTEE-M,BER,x\n');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '/line/3/on_hand' }] });
    const ok = await post('sku,warehouse,on_hand\nTEE-M,BER,6\n');
    expect(await ok.json()).toMatchObject({ rows: 1, changed: 1 });
    expect((await call('GET', '/v1/stock/TEE-M', { key: keys.warehouse })).body).toMatchObject({
      warehouses: expect.arrayContaining([expect.objectContaining({ warehouse: 'BER', on_hand: 6 })]) as unknown,
    });
  });

  it('serves its OpenAPI document, docs and health without a key', async () => {
    const openapi = await call('GET', '/openapi.json', { key: null });
    expect(openapi.body).toMatchObject({ openapi: '3.1.0' });
    expect(Object.keys(openapi.body.paths as object)).toEqual(
      expect.arrayContaining([
        '/v1/reservations',
        '/v1/stock/receive',
        '/v1/reservations/{id}/fulfil',
        '/v1/purchase-orders/{id}/receive',
        '/v1/replenishment/suggestions',
        '/v1/alerts',
        '/v1/webhooks',
        '/v1/channels',
      ]),
    );
    expect((await call('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok', database: driver });
    expect((await fetch(`${ctx.server.url}/docs`)).status).toBe(200);
  });

  it('counts requests by route and outcome, sweeper runs and reservation groups, on /metrics', async () => {
    const text = await (
      await fetch(`${ctx.server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    expect(text).toMatch(
      /stockroom_requests_total\{method="POST",route="\/v1\/reservations",outcome="insufficient_stock"\} \d+/,
    );
    expect(text).toMatch(/stockroom_requests_total\{method="POST",route="\/v1\/reservations",outcome="ok"\} \d+/);
    expect(text).toMatch(/stockroom_request_duration_seconds_bucket/);
    expect(text).toMatch(/stockroom_sweeper_runs_total\{result="ok"\} [1-9]/);
    // the 500 concurrent reservations above were committed in groups of more than one
    const total = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(total('stockroom_reserve_grouped_total')).toBeGreaterThan(total('stockroom_reserve_groups_total'));
    expect(total('stockroom_reserve_groups_total')).toBeGreaterThan(0);
  });

  it('answers /metrics only to a key with scope metrics or admin', async () => {
    const scraper = (await call('POST', '/v1/keys', { body: { name: 'prometheus', scopes: ['metrics'] } })).body[
      'key'
    ] as string;
    const metrics = (key: string | null) =>
      fetch(`${ctx.server.url}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    expect((await metrics(null)).status).toBe(401);
    expect((await metrics(keys['checkout'] ?? '')).status).toBe(403);
    expect((await metrics(scraper)).status).toBe(200);
    expect(await (await metrics(scraper)).text()).toMatch(/^stockroom_requests_total/m);
  });
});

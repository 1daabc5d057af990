import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QuantityLimitError } from '../src/domain/errors.js';
import { LINGER_MS } from '../src/http/errors.js';
import { buildServer } from '../src/http/server.js';
import { AvailabilityFeed } from '../src/services/availability-feed.js';
import { MAX_QTY } from '../src/services/schemas.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';

const ADMIN = 'sr_edge_admin_0123456789abcdef';

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown> & { code?: string; errors?: { path: string; message: string }[] };
}

describe.each(drivers())('edge input over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  let app: FastifyInstance;

  beforeAll(async () => {
    await h.s.keys.ensure(ADMIN, 'edge admin', ['admin']);
    app = await buildServer({ stockroom: h.s, storefront: { feed: new AvailabilityFeed(h.s.availability) } });
  });
  afterAll(async () => {
    await app.close();
  });

  async function call(
    method: string,
    url: string,
    options: { body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const key = options.key === undefined ? ADMIN : options.key;
    const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers };
    const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    const type = String(res.headers['content-type'] ?? '');
    return {
      status: res.statusCode,
      type,
      body: type.includes('json') && res.body ? (JSON.parse(res.body) as Answer['body']) : {},
    };
  }

  /** A refusal as the API promises it: a problem document with a code, naming where the problem is. */
  function expectRefused(answer: Answer, status: number, code: string, path?: string): void {
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ status, code });
    expect([typeof answer.body.title, typeof answer.body.detail]).toEqual(['string', 'string']);
    expect(answer.status).toBe(status);
    if (path !== undefined) expect(answer.body.errors?.map((e) => e.path)).toContain(path);
  }

  const stockOf = async (sku: string) =>
    (await h.s.stock.get(sku)).warehouses.map((w) => [w.warehouse, w.on_hand, w.reserved]);

  it('refuses a NUL character in a body, a path, a query and a nested attribute, naming the field, and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const before = await stockOf(sku);
    expectRefused(
      await call('POST', '/v1/stock/receive', { body: { sku, warehouse: wh[0], qty: 1, reference: 'a\u0000b' } }),
      400,
      'validation_failed',
      '/reference',
    );
    expectRefused(
      await call('PUT', `/v1/variants/${sku}`, { body: { attributes: { colour: 'red\u0000' } } }),
      400,
      'validation_failed',
      '/attributes/colour',
    );
    expectRefused(
      await call('PUT', `/v1/variants/${sku}`, { body: { attributes: { 'co\u0000lour': 'red' } } }),
      400,
      'validation_failed',
      '/attributes/co\\u0000lour',
    );
    expectRefused(await call('GET', '/v1/stock/a%00b'), 400, 'validation_failed', '/params/sku');
    expectRefused(await call('GET', '/v1/availability?sku=%00', { key: null }), 400, 'validation_failed', '/query/sku');
    expectRefused(
      await call('GET', '/v1/availability/stream?sku=%00', { key: null }),
      400,
      'validation_failed',
      '/query/sku',
    );
    expectRefused(await call('GET', '/v1/movements?warehouse=%00'), 400, 'validation_failed', '/query/warehouse');
    expectRefused(
      await call('POST', '/v1/import/stock?reference=%00', {
        raw: `sku,warehouse,on_hand\n${sku},${wh[0]},9\n`,
        headers: { 'content-type': 'text/csv' },
      }),
      400,
      'validation_failed',
      '/query/reference',
    );
    expect(await stockOf(sku)).toEqual(before);
  });

  it('refuses a lone surrogate in references, order refs, sources, attributes and names instead of storing U+FFFD', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const lone = '\ud800';
    expectRefused(
      await call('POST', '/v1/stock/receive', { body: { sku, warehouse: wh[0], qty: 1, reference: lone } }),
      400,
      'validation_failed',
      '/reference',
    );
    expectRefused(
      await call('POST', '/v1/reservations', { body: { order_ref: `x${lone}`, lines: [{ sku, qty: 1 }] } }),
      400,
      'validation_failed',
      '/order_ref',
    );
    expectRefused(
      await call('POST', '/v1/stock/sync', { body: { source: lone, items: [{ sku, warehouse: wh[0], on_hand: 1 }] } }),
      400,
      'validation_failed',
      '/source',
    );
    expectRefused(
      await call('PUT', `/v1/variants/${sku}`, { body: { attributes: { size: `\udc00${lone}` } } }),
      400,
      'validation_failed',
      '/attributes/size',
    );
    const code = uniq('W');
    expectRefused(
      await call('POST', '/v1/warehouses', { body: { code, name: `Lager ${lone}` } }),
      400,
      'validation_failed',
      '/name',
    );
    // a well-formed pair (an emoji) is text like any other
    expect((await call('PUT', `/v1/variants/${sku}`, { body: { attributes: { icon: '\ud83d\udc55' } } })).status).toBe(
      200,
    );
    expect((await h.s.catalog.listWarehouses()).some((w) => w.code === code)).toBe(false);
    expect((await h.s.stock.movements({ sku })).items.map((m) => m.type)).toEqual(['receive']);
  });

  it('refuses a receive that would take on_hand past the integer limit with a 409 that says the limit', async () => {
    const { sku, wh } = await world(h.s, [0]);
    // 2,147,483,647 is the most a level holds: 214 receives of the largest quantity come within 7,483,647 of it
    for (let i = 0; i < 214; i++) await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: MAX_QTY });
    const before = await stockOf(sku);
    const refused = await call('POST', '/v1/stock/receive', { body: { sku, warehouse: wh[0], qty: MAX_QTY } });
    expectRefused(refused, 409, 'quantity_limit');
    expect(refused.body).toMatchObject({ limit: 2_147_483_647 });
    expect(refused.body.detail).toContain('2147483647');
    expectRefused(
      await call('POST', '/v1/stock/adjust', { body: { sku, warehouse: wh[0], delta: MAX_QTY, reason: 'correction' } }),
      409,
      'quantity_limit',
    );
    // the library says the same as the API
    await expect(h.s.stock.receive({ sku, warehouse: wh[0]!, qty: MAX_QTY })).rejects.toThrow(QuantityLimitError);
    expect(await stockOf(sku)).toEqual(before);
    expect(
      (await call('POST', '/v1/stock/receive', { body: { sku, warehouse: wh[0], qty: 7_483_647 } })).body,
    ).toMatchObject({ on_hand: 2_147_483_647 });
    // a level that full can still be changed with compare-and-set: expected_on_hand is any number a level holds
    const full = 2_147_483_647;
    const adjust = (expected: number) =>
      call('POST', '/v1/stock/adjust', {
        body: { sku, warehouse: wh[0], delta: -1, reason: 'correction', expected_on_hand: expected },
      });
    expectRefused(await adjust(full - 1), 409, 'stale_quantity');
    expect((await adjust(full)).body).toMatchObject({ on_hand: full - 1 });
    expect(
      (
        await call('POST', '/v1/stock/count', {
          body: { sku, warehouse: wh[0], counted: 5, expected_on_hand: full - 1 },
        })
      ).body,
    ).toMatchObject({ on_hand: 5 });
    expectRefused(await adjust(full + 1), 400, 'validation_failed', '/expected_on_hand');
  });

  it('reads sums past what one level holds as they are: a variant over its warehouses, a warehouse over its variants', async () => {
    const { sku, wh } = await world(h.s, [0, 0]);
    const other = uniq('SKU');
    await h.s.catalog.addVariant({ sku: other, product: { title: other } });
    const fill = async (s: string, w: string) => {
      for (let i = 0; i < 214; i++) await h.s.stock.receive({ sku: s, warehouse: w, qty: MAX_QTY });
      await h.s.stock.receive({ sku: s, warehouse: w, qty: 7_483_647 });
    };
    await fill(sku, wh[0]!);
    await fill(sku, wh[1]!);
    await fill(other, wh[0]!);
    // a variant's position over both warehouses: twice what a level holds, a read, not a 409 quantity_limit
    const suggestions = await call('GET', `/v1/replenishment/suggestions?sku=${sku}`);
    expect(suggestions.status, JSON.stringify(suggestions.body)).toBe(200);
    expect(suggestions.body.items).toMatchObject([{ sku, net: 4_294_967_294, position: 4_294_967_294 }]);
    // a warehouse holding two full levels cannot be archived because it holds stock, not because the sum overflowed
    expectRefused(await call('POST', `/v1/warehouses/${wh[0]}/archive`), 409, 'in_use');
  });

  it('validates dates and times to real calendar days in a sane range before they reach SQL', async () => {
    for (const since of [
      '99999-01-01',
      '9999-12-31T23:00:00-14:00',
      '1970-01-01T00:30:00%2B01:00',
      '0000-01-01',
      '2026-02-30',
      '2026-01-15T25:00:00Z',
      'yesterday',
      '1e3',
    ]) {
      expectRefused(await call('GET', `/v1/movements?since=${since}`), 400, 'validation_failed', '/query/since');
    }
    await expect(h.s.stock.movements({ since: '99999-01-01' })).rejects.toThrow('/since');
    expect((await call('GET', '/v1/movements?since=2026-01-01&limit=1')).status).toBe(200);
    expect((await call('GET', '/v1/movements?since=2026-01-01T00:00:00%2B01:00&limit=1')).status).toBe(200);
    const supplier = uniq('SUP');
    expect((await call('POST', '/v1/suppliers', { body: { code: supplier, name: supplier } })).status).toBe(201);
    const { sku, wh } = await world(h.s, [0]);
    for (const expected_date of ['0000-01-01', '2026-02-29', '99999-01-01']) {
      expectRefused(
        await call('POST', '/v1/purchase-orders', {
          body: { supplier, warehouse: wh[0], lines: [{ sku, qty: 1 }], expected_date },
        }),
        400,
        'validation_failed',
        '/expected_date',
      );
    }
  });

  it("answers Fastify's own refusals as problem documents with codes", async () => {
    expectRefused(await call('GET', '/v1/stock/%E0%A4%A'), 400, 'validation_failed');
    expectRefused(await call('GET', `/v1/stock/${'A'.repeat(101)}`), 414, 'uri_too_long');
    expectRefused(await call('POST', '/v1/stock/receive', { raw: '{"sku": ' }), 400, 'validation_failed');
    expectRefused(
      await call('POST', '/v1/stock/receive', { raw: '{"__proto__": {"x": 1}}' }),
      400,
      'validation_failed',
    );
    expectRefused(
      await call('POST', '/v1/stock/receive', { raw: '', headers: { 'content-type': 'application/json' } }),
      400,
      'validation_failed',
    );
    expectRefused(
      await call('POST', '/v1/stock/receive', { raw: 'x', headers: { 'content-type': 'application/xml' } }),
      415,
      'unsupported_media_type',
    );
  });

  it('refuses a channel URL no send could use (no host, a port past 65535, a broken IPv6 host), never echoing it', async () => {
    const before = (await h.s.channels.list()).items.length;
    for (const url of ['http://u:pw@[zz/x', 'http://u:pw@h:99999/x', 'http://u:pw@/x']) {
      const refused = await call('POST', '/v1/webhooks', {
        body: { url, events: ['low_stock'], secret: 'SIGNSECRET_bad_url_01' },
      });
      expectRefused(refused, 400, 'validation_failed', '/url');
      expect(JSON.stringify(refused.body)).not.toContain('pw@');
    }
    const telegram = await call('POST', '/v1/channels', {
      body: {
        kind: 'telegram',
        bot_token: '555:X',
        chat_id: '44',
        api_url: 'http://127.0.0.1:99999',
        events: ['low_stock'],
      },
    });
    expectRefused(telegram, 400, 'validation_failed', '/api_url');
    const email = await call('POST', '/v1/channels', {
      body: {
        kind: 'email',
        smtp_url: 'smtp://u:pw@:25',
        from: 'a@b.example',
        to: ['c@d.example'],
        events: ['low_stock'],
      },
    });
    expectRefused(email, 400, 'validation_failed', '/smtp_url');
    expect((await h.s.channels.list()).items.length).toBe(before);
  });

  it('refuses a body nested deeper than any input, before a recursive check can overflow the stack', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const refused = await call('POST', '/v1/webhooks', {
      raw: `{"url": 2147483648, "events": [${deep}, "low_stock"], "secret": " "}`,
    });
    expectRefused(refused, 400, 'validation_failed');
    expect(refused.body.errors?.[0]?.path.startsWith('/events/0/0/0')).toBe(true);
    expect((await h.s.channels.list('webhook')).items.filter((c) => c.target.includes('2147483648'))).toEqual([]);
  });

  it('answers a request Node cannot parse (headers too large, malformed) with a problem document on the socket', async () => {
    const server = await buildServer({ stockroom: h.s });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as AddressInfo;
    const send = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request));
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('close', () => {
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
        socket.on('error', reject);
      });
    try {
      const tooLarge = await send(`GET /v1/warehouses HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(tooLarge).toMatch(/^HTTP\/1\.1 431 /);
      expect(tooLarge).toContain('application/problem+json');
      expect(JSON.parse(tooLarge.slice(tooLarge.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 431,
        code: 'headers_too_large',
      });
      const malformed = await send('GET /v1/warehouses HTTP/1.1\r\nHost x\r\n\r\n');
      expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(malformed.slice(malformed.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 400,
        code: 'validation_failed',
      });
    } finally {
      await server.close();
    }
  });

  it('refuses to fulfil a line with nothing left as 409 invalid_transition', async () => {
    const { sku } = await world(h.s, [5]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 2 }] });
    expect((await call('POST', `/v1/reservations/${r.id}/fulfil`, { body: { lines: [{ sku, qty: 1 }] } })).status).toBe(
      200,
    );
    expect(
      (await call('POST', `/v1/reservations/${r.id}/fulfil`, { body: { lines: [{ sku, qty: 1 }] } })).body,
    ).toMatchObject({ status: 'fulfilled' });
    const before = await stockOf(sku);
    expectRefused(
      await call('POST', `/v1/reservations/${r.id}/fulfil`, { body: { lines: [{ sku, qty: 1 }] } }),
      409,
      'invalid_transition',
    );
    expect(await stockOf(sku)).toEqual(before);
  });

  it('reads numeric ids as plain decimal digits only, in paths, filters and cursors', async () => {
    const order = await h.s.purchasing.addSupplier({ code: uniq('S'), name: 'S' });
    const { sku, wh } = await world(h.s, [0]);
    const po = await h.s.purchasing.create({ supplier: order.code, warehouse: wh[0]!, lines: [{ sku, qty: 3 }] });
    expect((await call('GET', `/v1/purchase-orders/${po.id}`)).status).toBe(200);
    const hex = `0x${po.id.toString(16)}`;
    for (const odd of [
      hex,
      `${po.id}e0`,
      `%20${po.id}`,
      `%2B${po.id}`,
      `0${po.id}`,
      `${po.id}.0`,
      '99999999999999999999',
    ]) {
      expectRefused(await call('GET', `/v1/purchase-orders/${odd}`), 404, 'not_found');
    }
    const channel = await h.s.channels.addWebhook({
      url: 'http://127.0.0.1:9/hook',
      events: ['low_stock'],
      secret: 'a-secret-of-16-chars',
    });
    expectRefused(await call('DELETE', `/v1/channels/0x${channel.id.toString(16)}`), 404, 'not_found');
    expectRefused(
      await call('GET', `/v1/deliveries?channel=0x${channel.id.toString(16)}`),
      400,
      'validation_failed',
      '/query/channel',
    );
    expectRefused(await call('GET', '/v1/movements?cursor=0x10'), 400, 'validation_failed', '/query/cursor');
    await expect(h.s.stock.movements({ cursor: '1e3' })).rejects.toThrow('/cursor');
    // a cursor of the right shape that no page handed out: a SKU no variant has, an id no reservation has
    expectRefused(await call('GET', '/v1/variants?cursor=ZZZ-NEVER-LISTED'), 400, 'validation_failed', '/query/cursor');
    const never = '01a225a2-b354-72d1-9a41-7d4fc029afb9';
    expectRefused(await call('GET', `/v1/reservations?cursor=${never}`), 400, 'validation_failed', '/query/cursor');
    await expect(h.s.catalog.listVariants({ cursor: 'ZZZ-NEVER-LISTED' })).rejects.toThrow('/cursor');
    expect((await h.s.channels.list()).items.map((c) => c.id)).toContain(channel.id);
    await h.s.channels.remove(channel.id);
  });

  it('refuses a movements cursor no page handed out (0, an id past the newest ledger row); one handed out pages on', async () => {
    const { sku, wh } = await world(h.s, [0]);
    for (const qty of [1, 2, 3]) await h.s.stock.receive({ sku, warehouse: wh[0]!, qty });
    const first = await call('GET', `/v1/movements?sku=${sku}&limit=2`);
    const cursor = String(first.body.next_cursor);
    const next = await call('GET', `/v1/movements?sku=${sku}&limit=2&cursor=${cursor}`);
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(1);
    const newest = Number((first.body.items as { id: number }[])[0]?.id);
    for (const never of ['0', String(newest + 1_000_000), '99999999999999']) {
      expectRefused(await call('GET', `/v1/movements?cursor=${never}`), 400, 'validation_failed', '/query/cursor');
      await expect(h.s.stock.movements({ cursor: never })).rejects.toMatchObject({
        code: 'validation_failed',
        errors: [{ path: '/cursor', message: 'not a cursor this endpoint returned' }],
      });
    }
  });

  it('refuses unknown fields in every body, and any body where a route takes none', async () => {
    expectRefused(
      await call('POST', '/v1/keys', { body: { name: 'k', scopes: ['checkout'], admin: true } }),
      400,
      'validation_failed',
      '/admin',
    );
    expect((await h.s.keys.list()).some((k) => k.name === 'k')).toBe(false);
    const { sku, wh } = await world(h.s, [5]);
    expectRefused(
      await call('POST', `/v1/warehouses/${wh[0]}/bins`, { body: { code: 'A-01-01', warehouse: 'ELSEWHERE' } }),
      400,
      'validation_failed',
      '/warehouse',
    );
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }] });
    expectRefused(
      await call('POST', `/v1/reservations/${r.id}/cancel`, { body: { lines: [{ sku, qty: 1 }], reason: 'x' } }),
      400,
      'validation_failed',
      '/reason',
    );
    for (const body of ['please do not cancel', '', null, 0, false]) {
      expectRefused(await call('POST', `/v1/reservations/${r.id}/cancel`, { body }), 400, 'validation_failed');
    }
    expect((await h.s.reservations.get(r.id)).status).toBe('pending');
    expect((await call('POST', `/v1/reservations/${r.id}/cancel`, { body: {} })).body).toMatchObject({
      status: 'released',
    });
  });

  it('refuses a body naming a member twice in one object, at its pointer, and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const cases: [string, string, string][] = [
      [
        '/v1/stock/adjust',
        `{"sku":"${sku}","warehouse":"${wh[0]}","delta":5,"delta":-1,"reason":"correction"}`,
        '/delta',
      ],
      ['/v1/reservations', `{"order_ref":"a","order_ref":"b","lines":[{"sku":"${sku}","qty":1}]}`, '/order_ref'],
      ['/v1/reservations', `{"order_ref":"c","lines":[{"sku":"${sku}","qty":1,"\\u0071ty":2}]}`, '/lines/0/qty'],
      [
        '/v1/stock/sync',
        `{"source":"x","items":[{"sku":"${sku}","warehouse":"${wh[0]}","on_hand":1,"on_hand":9}]}`,
        '/items/0/on_hand',
      ],
    ];
    for (const [url, raw, path] of cases)
      expectRefused(await call('POST', url, { raw }), 400, 'validation_failed', path);
    expect((await h.s.stock.get(sku)).total).toMatchObject({ on_hand: 5, reserved: 0 });
    expect((await h.s.stock.movements({ sku })).items.map((m) => m.type)).toEqual(['receive']);
  });

  it('answers a body too large injected with no connection behind it (an embedder injecting requests), and leaves nothing to cut later', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const tooLarge = await call('POST', '/v1/stock/receive', { raw: `"${'x'.repeat(1024 * 1024)}"` });
      expectRefused(tooLarge, 413, 'payload_too_large');
      // a connection's rest of the body is cut LINGER_MS after the answer; an injected request has none to cut
      vi.advanceTimersByTime(LINGER_MS + 1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses . and .. as SKUs, which no URL path can name, and takes any other run of dots', async () => {
    for (const sku of ['.', '..']) {
      const refused = await call('POST', '/v1/variants', { body: { sku, product: { title: 't' } } });
      expectRefused(refused, 400, 'validation_failed', '/sku');
      expect(refused.body.errors?.[0]?.message).toContain('not . or ..');
    }
    const dots = `...${uniq('x')}`.slice(0, 64);
    expect((await call('POST', '/v1/variants', { body: { sku: dots, product: { title: 't' } } })).status).toBe(201);
    expect((await call('GET', `/v1/variants/${encodeURIComponent(dots)}`)).body).toMatchObject({ sku: dots });
  });

  it('takes a JSON null as a body, refused, on the routes whose every field has a default: fulfil, confirm, keys, bins', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }] });
    const supplier = uniq('SUP');
    expect(
      (await call('POST', '/v1/suppliers', { body: { code: supplier, name: 'S', warehouse: wh[0] } })).status,
    ).toBe(201);
    const po = await call('POST', '/v1/purchase-orders', {
      body: { supplier, warehouse: wh[0], lines: [{ sku, qty: 2 }] },
    });
    const poId = String(po.body.id);
    expect((await call('POST', `/v1/purchase-orders/${poId}/send`)).body).toMatchObject({ status: 'SENT' });
    const keysBefore = (await h.s.keys.list()).length;
    const refused = [
      `/v1/reservations/${r.id}/fulfil`,
      `/v1/purchase-orders/${poId}/confirm`,
      '/v1/keys',
      `/v1/warehouses/${wh[0]}/bins`,
    ];
    for (const url of refused) expectRefused(await call('POST', url, { raw: 'null' }), 400, 'validation_failed');
    // nothing was shipped, confirmed, made or added
    expect((await h.s.reservations.get(r.id)).status).toBe('pending');
    expect((await h.s.stock.get(sku)).total.on_hand).toBe(5);
    expect((await call('GET', `/v1/purchase-orders/${poId}`)).body).toMatchObject({ status: 'SENT' });
    expect((await h.s.keys.list()).length).toBe(keysBefore);
    // no body at all is still an empty one
    expect((await call('POST', `/v1/purchase-orders/${poId}/confirm`)).body).toMatchObject({ status: 'CONFIRMED' });
    expect((await call('POST', `/v1/reservations/${r.id}/fulfil`)).body).toMatchObject({ status: 'fulfilled' });
  });

  it('refuses query parameters a route does not understand, naming them, and holds query values to their field kind', async () => {
    const { sku, wh } = await world(h.s, [1]);
    expectRefused(
      await call('GET', `/v1/export/stock.csv?warehouse=${wh[0]}`),
      400,
      'validation_failed',
      '/query/warehouse',
    );
    expectRefused(await call('GET', '/v1/variants?status=low_stock'), 400, 'validation_failed', '/query/status');
    // a flag is told what it must be, once
    for (const url of ['/v1/stock?below_reorder_point=yes', '/v1/warehouses?archived=1']) {
      const flag = await call('GET', url);
      expectRefused(flag, 400, 'validation_failed');
      expect(flag.body.errors).toEqual([
        {
          path: `/query/${url.includes('archived') ? 'archived' : 'below_reorder_point'}`,
          message: 'must be one of: true, false',
        },
      ]);
    }
    expectRefused(
      await call('GET', `/v1/stock/${sku}?warehouse=${wh[0]}`),
      400,
      'validation_failed',
      '/query/warehouse',
    );
    expectRefused(await call('GET', `/v1/movements?sku=${sku}&colour=red`), 400, 'validation_failed', '/query/colour');
    const csv = `sku,warehouse,on_hand\n${sku},${wh[0]},9\n`;
    const longReference = await call('POST', `/v1/import/stock?reference=${'r'.repeat(5000)}`, {
      raw: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expectRefused(longReference, 400, 'validation_failed', '/query/reference');
    await expect(h.s.stock.importOnHand(csv, { reference: 'r'.repeat(201) })).rejects.toThrow('/reference');
    expect((await h.s.stock.get(sku)).total.on_hand).toBe(1);
    expect((await call('GET', '/v1/export/stock.csv')).status).toBe(200);
    // what a page of a list hands out is read back
    const page = await call('GET', `/v1/movements?sku=${sku}&limit=1`);
    expect(page.status).toBe(200);
  });
});

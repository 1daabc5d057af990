import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/domain/signature.js';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import { useUpstream } from './support/upstream.js';

describe.each(drivers())('external warehouse systems on %s', (driver) => {
  const h = useStockroom(driver);
  const upstream = useUpstream();
  /** what the upstream system answers from now on: these items, as of `asOf` */
  const upstreamAnswers = (items: object[], asOf: string) => {
    upstream.answer = () => ({ status: 200, body: { items, as_of: asOf } });
  };

  /** a source registered (without a secret) to be pulled */
  const registered = async (prefix: string): Promise<string> => {
    const source = uniq(prefix);
    await h.s.sync.configureSource(source, null);
    return source;
  };

  it('pull applies what changed since the last pull and moves the cursor with it', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const source = await registered('wms');
    upstreamAnswers([{ sku, warehouse: wh[0], on_hand: 9 }], '2026-03-01T10:00:00.000Z');
    const first = await h.s.sync.pull(upstream.url, source);
    expect(first).toMatchObject({ last_sync_at: '2026-03-01T10:00:00.000Z', levels: [{ on_hand: 9, difference: 4 }] });
    expect(upstream.asked.at(-1)?.searchParams.get('changedSince')).toBeNull();
    upstreamAnswers([{ sku, warehouse: wh[0], on_hand: 7 }], '2026-03-01T11:00:00.000Z');
    await h.s.sync.pull(upstream.url, source);
    expect(upstream.asked.at(-1)?.searchParams.get('changedSince')).toBe('2026-03-01T10:00:00.000Z');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [7, 0, 7] });
    expect((await h.s.stock.movements({ sku, limit: 1 })).items[0]).toMatchObject({
      type: 'sync',
      reference: source,
      delta_reserved: 0,
    });
  });

  it('a batch that fails in the middle applies nothing and leaves the cursor where it was', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const source = await registered('wms');
    upstreamAnswers([{ sku, warehouse: wh[0], on_hand: 6 }], '2026-04-01T00:00:00.000Z');
    await h.s.sync.pull(upstream.url, source);
    const other = await world(h.s, [3]);
    // the first item is fine, the second names a SKU stockroom does not know: all or nothing
    upstreamAnswers(
      [
        { sku: other.sku, warehouse: other.wh[0], on_hand: 1 },
        { sku: 'NOT-HERE', warehouse: wh[0], on_hand: 1 },
      ],
      '2026-04-02T00:00:00.000Z',
    );
    await expect(h.s.sync.pull(upstream.url, source)).rejects.toMatchObject({ code: 'unknown_sku' });
    upstream.answer = () => ({ status: 500, body: { error: 'boom' } });
    await expect(h.s.sync.pull(upstream.url, source)).rejects.toMatchObject({ code: 'upstream_failed' });
    upstream.answer = () => ({
      status: 200,
      body: { items: [{ sku: other.sku, warehouse: other.wh[0], on_hand: -4 }] },
    });
    // what is wrong with the source's answer is the source's failure, its place named in that answer
    await expect(h.s.sync.pull(upstream.url, source)).rejects.toMatchObject({
      code: 'upstream_failed',
      extra: { upstream_errors: [{ path: '/items/0/on_hand' }] },
    });
    expect(await levels(h.s, other.sku, other.wh)).toEqual({ [other.wh[0]!]: [3, 0, 3] });
    upstream.answer = () => ({ status: 200, body: { items: [] } });
    await h.s.sync.pull(upstream.url, source);
    expect(upstream.asked.at(-1)?.searchParams.get('changedSince')).toBe('2026-04-01T00:00:00.000Z');
  });

  it('a pull of a source nobody registered is refused before the source is asked, and registers nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const source = uniq('unregistered');
    upstreamAnswers([{ sku, warehouse: wh[0], on_hand: 9 }], '2026-05-01T00:00:00.000Z');
    const asked = upstream.asked.length;
    for (const pull of [() => h.s.sync.pull(upstream.url, source), () => h.s.sync.checkPull(upstream.url, source)]) {
      await expect(pull()).rejects.toMatchObject({
        code: 'not_found',
        extra: { resource: 'sync source', key: source },
        message: `sync source not found: ${source} (register it first: stockroom sync source ${source})`,
      });
    }
    expect(upstream.asked.length).toBe(asked);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
    const { rows } = await h.test.db.query('SELECT name FROM sync_sources WHERE name = $1', [source]);
    expect(rows).toEqual([]);
  });

  it('a source that cannot be read is named without what the URL may carry as a credential', async () => {
    const source = await registered('quoted');
    // a fetch failing as some do, quoting the URL it was asked for
    const quoting: typeof fetch = (input) => Promise.reject(new TypeError(`cannot fetch ${(input as URL).href}`));
    const failed = await h.s.sync
      .pull(`${upstream.url}?token=hunter2-token`, source, { fetch: quoting })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 'upstream_failed' });
    expect((failed as Error).message).toMatch(new RegExp(`^${source} could not be read: cannot fetch`));
    expect((failed as Error).message).not.toContain('hunter2-token');
  });

  describe('pushed batches', () => {
    const secret = 'a-very-secret-value-123';
    let key = '';
    let app: FastifyInstance;
    beforeAll(async () => {
      key = (await h.s.keys.create({ name: uniq('wms'), scopes: ['warehouse'] })).key;
      app = await buildServer({ stockroom: h.s });
    });
    afterAll(async () => {
      await app.close();
    });
    const now = () => Math.floor(h.clock.now().getTime() / 1000);
    const push = (body: string, headers: Record<string, string> = {}, server = app) =>
      server.inject({
        method: 'POST',
        url: '/v1/stock/sync',
        payload: body,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      });
    const signed = (body: string, t = now(), with_ = secret) => ({
      'x-stockroom-signature': signWebhook(with_, body, t),
    });
    /** a SKU with `onHand` in one warehouse, a source that signs with the secret, and its batch setting `pushed` */
    const signedSourceBatch = async (onHand: number, pushed: number) => {
      const { sku, wh } = await world(h.s, [onHand]);
      const source = uniq('signed');
      await h.s.sync.configureSource(source, secret);
      const body = JSON.stringify({ source, items: [{ sku, warehouse: wh[0], on_hand: pushed }] });
      return { sku, wh, body };
    };

    it('a source with a secret takes only batches signed over a timestamp and the raw body', async () => {
      const { sku, wh, body } = await signedSourceBatch(5, 11);
      expect((await push(body)).json()).toMatchObject({ status: 401, code: 'invalid_signature' });
      expect((await push(body, signed(body, now(), 'wrong-secret-000000'))).json()).toMatchObject({
        code: 'invalid_signature',
        detail: 'the signature does not match the body',
      });
      // the old form, an HMAC of the body alone, can be replayed for ever: it is refused
      const legacy = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      expect((await push(body, { 'x-stockroom-signature': legacy })).json()).toMatchObject({
        code: 'invalid_signature',
      });
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
      const ok = await push(body, signed(body));
      expect(ok.statusCode).toBe(200);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [11, 0, 11] });
    });

    it('a signed batch taken once is refused when replayed, by this server or another on the database, and changes nothing', async () => {
      const { sku, wh, body: first } = await signedSourceBatch(13, 8);
      const captured = signed(first);
      expect((await push(first, captured)).statusCode).toBe(200);
      await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: 5, reason: 'correction' }); // back to 13
      h.clock.advance(60);
      expect((await push(first, captured)).json()).toMatchObject({
        status: 401,
        code: 'invalid_signature',
        detail: expect.stringContaining('replay') as unknown,
      });
      const other = await buildServer({ stockroom: new Stockroom({ db: h.test.db, clock: h.clock.now }) });
      try {
        expect((await push(first, captured, other)).json()).toMatchObject({ code: 'invalid_signature' });
      } finally {
        await other.close();
      }
      // still refused at the last moment the signature counts as fresh (the check reads whole seconds)
      const signedAt = Number(/t=(\d+)/.exec(captured['x-stockroom-signature'])?.[1]);
      h.clock.advance(signedAt + 300.5 - h.clock.now().getTime() / 1000);
      expect((await push(first, captured)).json()).toMatchObject({
        code: 'invalid_signature',
        detail: expect.stringContaining('replay') as unknown,
      });
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [13, 0, 13] });
      // the same content signed anew is a new push
      expect((await push(first, signed(first))).statusCode).toBe(200);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [8, 0, 8] });
    });

    it('a signature older (or newer) than the tolerance is refused', async () => {
      const { sku, wh, body } = await signedSourceBatch(5, 1);
      for (const t of [now() - 301, now() + 301]) {
        expect((await push(body, signed(body, t))).json()).toMatchObject({
          code: 'invalid_signature',
          detail: expect.stringContaining('300 s') as unknown,
        });
      }
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
      expect((await push(body, signed(body, now() - 299))).statusCode).toBe(200);
    });

    it('an unregistered source, or a registered one named in another case, is refused; one registered without a secret takes unsigned batches', async () => {
      const { sku, wh } = await world(h.s, [5]);
      const source = uniq('Signed');
      await h.s.sync.configureSource(source, secret);
      for (const name of [uniq('nobody'), source.toUpperCase(), source.toLowerCase()]) {
        const body = JSON.stringify({ source: name, items: [{ sku, warehouse: wh[0], on_hand: 1 }] });
        const refused = await push(body);
        expect(refused.statusCode).toBe(404);
        expect(refused.json()).toMatchObject({ code: 'not_found', resource: 'sync source' });
        // the key is the name as sent, nothing more; what to do about it is in the detail
        expect(refused.json()).toMatchObject({
          key: name,
          detail: `sync source not found: ${name} (register it first: stockroom sync source NAME [--secret S])`,
        });
      }
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
      const open = uniq('open');
      await h.s.sync.configureSource(open, null);
      expect(
        (await push(JSON.stringify({ source: open, items: [{ sku, warehouse: wh[0], on_hand: 10 }] }))).statusCode,
      ).toBe(200);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 0, 10] });
    });

    it('a source known only from pulls (registered by a pull before migration 0038) takes no unsigned push until it is registered', async () => {
      const { sku, wh } = await world(h.s, [5]);
      const pulled = uniq('pulled');
      // the row a pull made of a source nobody registered: a name and a cursor, no secret
      await h.test.db.query('INSERT INTO sync_sources (name, last_sync_at) VALUES ($1, $2)', [pulled, new Date()]);
      const body = JSON.stringify({ source: pulled, items: [{ sku, warehouse: wh[0], on_hand: 1 }] });
      const refused = await push(body);
      expect(refused.statusCode).toBe(404);
      expect(refused.json()).toMatchObject({
        code: 'not_found',
        resource: 'sync source',
        key: pulled,
        detail: expect.stringContaining('known only as a pulled source') as string,
      });
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
      // registered on purpose, with no secret: its unsigned pushes are taken, and its cursor is kept
      expect(await h.s.sync.configureSource(pulled, null)).toMatchObject({
        signed: false,
        last_sync_at: expect.any(String) as string,
      });
      expect((await push(body)).statusCode).toBe(200);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [1, 0, 1] });
      // given a secret, then none again: the choice follows the last registration
      await h.s.sync.configureSource(pulled, secret);
      expect((await push(body)).statusCode).toBe(401);
      await h.s.sync.configureSource(pulled, null);
      expect((await push(body)).statusCode).toBe(200);
    });

    it('with STOCKROOM_SECRET_KEY a source secret is sealed at rest; a server without that key refuses the batch, by a code of its own', async () => {
      const sealing = 'sync-sealing-key-0123456789';
      const withKey = new Stockroom({ db: h.test.db, clock: h.clock.now, secretKey: sealing });
      const { sku, wh } = await world(h.s, [5]);
      const source = uniq('sealed');
      expect(await withKey.sync.configureSource(source, secret)).toMatchObject({ signed: true });
      const { rows } = await h.test.db.query<{ secret: string | null; secret_sealed: string | null }>(
        'SELECT secret, secret_sealed FROM sync_sources WHERE name = $1',
        [source],
      );
      expect(rows[0]?.secret).toBeNull();
      expect(rows[0]?.secret_sealed).toMatch(/^v1\./);
      expect(rows[0]?.secret_sealed).not.toContain(secret);

      const body = JSON.stringify({ source, items: [{ sku, warehouse: wh[0], on_hand: 7 }] });
      // this suite's server has no key, and one has another: neither takes the batch, signed or not
      const otherKey = new Stockroom({ db: h.test.db, clock: h.clock.now, secretKey: 'another-sealing-key-000000' });
      for (const server of [app, await buildServer({ stockroom: otherKey })]) {
        for (const headers of [signed(body), {}]) {
          const refused = await push(body, headers, server);
          expect(refused.statusCode).toBe(500);
          expect(refused.json()).toMatchObject({
            code: 'secrets_unreadable',
            title: 'The server cannot open its stored secrets',
            detail: expect.stringContaining('STOCKROOM_SECRET_KEY') as unknown,
          });
          expect(refused.body).not.toContain(secret);
        }
        if (server !== app) await server.close();
      }
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });

      // the server with the key opens it and checks the signature as always
      const keyed = await buildServer({ stockroom: withKey });
      try {
        expect((await push(body, {}, keyed)).json()).toMatchObject({ code: 'invalid_signature' });
        expect((await push(body, signed(body), keyed)).statusCode).toBe(200);
      } finally {
        await keyed.close();
      }
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [7, 0, 7] });
      // registered again with the key and no secret, it has neither
      expect(await withKey.sync.configureSource(source, null)).toMatchObject({ signed: false });
    });
  });
});

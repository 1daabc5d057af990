import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { signature } from '../src/services/sync.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import { useUpstream } from './support/upstream.js';

describe.each(drivers())('external warehouse systems on %s', (driver) => {
  const h = useStockroom(driver);
  const upstream = useUpstream();

  it('pull applies what changed since the last pull and moves the cursor with it', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const source = uniq('wms');
    upstream.answer = () => ({ status: 200, body: { items: [{ sku, warehouse: wh[0], on_hand: 9 }], as_of: '2026-03-01T10:00:00.000Z' } });
    const first = await h.s.sync.pull(upstream.url, source);
    expect(first).toMatchObject({ last_sync_at: '2026-03-01T10:00:00.000Z', levels: [{ on_hand: 9, difference: 4 }] });
    expect(upstream.asked.at(-1)?.searchParams.get('changedSince')).toBeNull();
    upstream.answer = () => ({ status: 200, body: { items: [{ sku, warehouse: wh[0], on_hand: 7 }], as_of: '2026-03-01T11:00:00.000Z' } });
    await h.s.sync.pull(upstream.url, source);
    expect(upstream.asked.at(-1)?.searchParams.get('changedSince')).toBe('2026-03-01T10:00:00.000Z');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [7, 0, 7] });
    expect((await h.s.stock.movements({ sku, limit: 1 })).items[0]).toMatchObject({ type: 'sync', reference: source, delta_reserved: 0 });
  });

  it('a batch that fails in the middle applies nothing and leaves the cursor where it was', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const source = uniq('wms');
    upstream.answer = () => ({ status: 200, body: { items: [{ sku, warehouse: wh[0], on_hand: 6 }], as_of: '2026-04-01T00:00:00.000Z' } });
    await h.s.sync.pull(upstream.url, source);
    const other = await world(h.s, [3]);
    // the first item is fine, the second names a SKU stockroom does not know: all or nothing
    upstream.answer = () => ({ status: 200, body: { items: [{ sku: other.sku, warehouse: other.wh[0], on_hand: 1 }, { sku: 'NOT-HERE', warehouse: wh[0], on_hand: 1 }], as_of: '2026-04-02T00:00:00.000Z' } });
    await expect(h.s.sync.pull(upstream.url, source)).rejects.toMatchObject({ code: 'unknown_sku' });
    upstream.answer = () => ({ status: 500, body: { error: 'boom' } });
    await expect(h.s.sync.pull(upstream.url, source)).rejects.toMatchObject({ code: 'upstream_failed' });
    upstream.answer = () => ({ status: 200, body: { items: [{ sku: other.sku, warehouse: other.wh[0], on_hand: -4 }] } });
    await expect(h.s.sync.pull(upstream.url, source)).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await levels(h.s, other.sku, other.wh)).toEqual({ [other.wh[0]!]: [3, 0, 3] });
    upstream.answer = () => ({ status: 200, body: { items: [] } });
    await h.s.sync.pull(upstream.url, source);
    expect(upstream.asked.at(-1)?.searchParams.get('changedSince')).toBe('2026-04-01T00:00:00.000Z');
  });

  it('a pushed sync from a source with a secret must carry a matching signature over its raw body', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const source = uniq('signed');
    const secret = 'a-very-secret-value-123';
    await h.s.sync.configureSource(source, secret);
    const { key } = await h.s.keys.create({ name: uniq('wms'), scopes: ['warehouse'] });
    const app = await buildServer({ stockroom: h.s });
    try {
      const body = JSON.stringify({ source, items: [{ sku, warehouse: wh[0], on_hand: 11 }] });
      const send = (headers: Record<string, string>) =>
        app.inject({ method: 'POST', url: '/v1/stock/sync', payload: body, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers } });
      expect((await send({})).json()).toMatchObject({ status: 401, code: 'invalid_signature' });
      expect((await send({ 'x-stockroom-signature': signature('wrong-secret-000000', body) })).json()).toMatchObject({ code: 'invalid_signature' });
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
      const ok = await send({ 'x-stockroom-signature': signature(secret, body) });
      expect(ok.statusCode).toBe(200);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [11, 0, 11] });
      // a source without a secret takes unsigned batches
      const open = JSON.stringify({ source: uniq('open'), items: [{ sku, warehouse: wh[0], on_hand: 10 }] });
      expect((await app.inject({ method: 'POST', url: '/v1/stock/sync', payload: open, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { adminCall, useServer } from './support/served.js';
import { itemOf, openStream } from './support/sse.js';

describe.each(drivers())('live availability over Server-Sent Events, served by a real process on %s', (driver) => {
  const ctx = useServer(driver, { STOCKROOM_SSE_HEARTBEAT_MS: '50' });
  const api = (method: string, path: string, body?: unknown) => adminCall(ctx.server, method, path, body);
  let n = 0;
  /** a SKU of this test with `qty` units in one warehouse */
  const stocked = async (qty: number, settings: Record<string, unknown> = {}): Promise<string> => {
    const sku = `LIVE-${++n}`;
    if (n === 1) await api('POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    await api('POST', '/v1/variants', { sku, product: { title: sku }, low_stock_threshold: 2, ...settings });
    if (qty > 0) await api('POST', '/v1/stock/receive', { sku, warehouse: 'AMS', qty });
    return sku;
  };
  const stream = (skus: string[], headers: Record<string, string> = {}) =>
    openStream(
      `${ctx.server.url}/v1/availability/stream?${skus.map((s) => `sku=${encodeURIComponent(s)}`).join('&')}`,
      headers,
    );

  it('sends the current state first, then an event for a SKU only when its status, count or label changes', async () => {
    const [a, b] = [await stocked(5), await stocked(9)];
    const s = await stream([a, b]);
    try {
      expect(s.status).toBe(200);
      expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
      expect([itemOf(await s.next()), itemOf(await s.next())]).toEqual([
        { sku: a, available: 5, status: 'in_stock', label: 'In stock' },
        { sku: b, available: 9, status: 'in_stock', label: 'In stock' },
      ]);
      // announced by the database, but nothing a shopper sees changes: no event
      await api('PUT', `/v1/variants/${a}`, { reorder_point: 3 });
      const r = await api('POST', '/v1/reservations', { order_ref: 'live-1', lines: [{ sku: a, qty: 3 }] });
      const changed = await s.next();
      expect(changed.event).toBe('availability');
      expect(itemOf(changed)).toEqual({ sku: a, available: 2, status: 'low_stock', label: 'Only 2 left' });
      await api('POST', `/v1/reservations/${String(r.id)}/cancel`);
      expect(itemOf(await s.next())).toMatchObject({ sku: a, available: 5, status: 'in_stock' });
      // every event so far was about a: b never changed
      expect(s.messages.filter((m) => m.event).map((m) => itemOf(m).sku)).toEqual([a, b, a, a]);
    } finally {
      await s.close();
    }
  });

  it('keeps an idle stream alive with heartbeats', async () => {
    const s = await stream([await stocked(1)]);
    try {
      await s.next((m) => m.comment === 'ping');
      await s.next((m) => m.comment === 'ping');
    } finally {
      await s.close();
    }
  });

  it('a stream that reconnects with Last-Event-ID gets every change it missed, or the state when it cannot resume', async () => {
    const sku = await stocked(6);
    // another shopper keeps watching the whole time
    const witness = await stream([sku]);
    await witness.next();
    const first = await stream([sku]);
    const seen = await first.next();
    await first.close();

    // while this shopper is away, two changes happen
    await api('POST', '/v1/reservations', { order_ref: 'missed-1', lines: [{ sku, qty: 2 }] });
    await api('POST', '/v1/reservations', { order_ref: 'missed-2', lines: [{ sku, qty: 3 }] });
    await witness.next((m) => m.event !== undefined && itemOf(m).available === 1);

    // the witness was told what it was told after the change this shopper saw last: 4 then 1, or just 1 when both
    // commits were read at once (and the receipt's own change when it reached the witness after the shopper's
    // first state, as it may on a busy machine)
    const after = (id: string | undefined): number => Number(id?.split('-').pop());
    const told = witness.messages.filter((m) => m.event && after(m.id) > after(seen.id));
    const resumed = await stream([sku], { 'last-event-id': seen.id ?? '' });
    const last = await resumed.next((m) => m.event !== undefined && itemOf(m).available === 1);
    const missed = resumed.messages.filter((m) => m.event);
    await resumed.close();
    // exactly what was told while this shopper was away, and no replay of what it had already seen
    expect(missed.map((m) => [m.id, itemOf(m).available])).toEqual(told.map((m) => [m.id, itemOf(m).available]));
    expect(itemOf(last)).toMatchObject({ status: 'low_stock', label: 'Only 1 left' });

    // nobody watches while the last unit goes: a resume cannot replay what was never followed, so it gets the state
    await witness.close();
    await api('POST', '/v1/reservations', { order_ref: 'missed-3', lines: [{ sku, qty: 1 }] });
    const late = await stream([sku], { 'last-event-id': last.id ?? '' });
    expect(itemOf(await late.next())).toMatchObject({ sku, available: 0, status: 'out_of_stock' });
    await late.close();

    const stranger = await stream([sku], { 'last-event-id': 'not-ours-7' });
    expect(itemOf(await stranger.next())).toMatchObject({ sku, available: 0 });
    await stranger.close();
  });

  it('refuses unknown SKUs and bad queries with a problem document, before any stream opens', async () => {
    const res = await fetch(`${ctx.server.url}/v1/availability/stream?sku=NOPE-LIVE`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'unknown_sku' });
    expect((await fetch(`${ctx.server.url}/v1/availability/stream`)).status).toBe(400);
  });
});

import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/domain/signature.js';
import { DeliveryWorker } from '../src/infra/delivery-worker.js';
import { claimDeliveries, dispatchOutbox, recordAttempts } from '../src/store/deliveries.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import type { Harness } from './support/harness.js';
import { useDelivery } from './support/delivery.js';
import type { HttpReceiver } from './support/receivers.js';

const SECRET = 'whsec-events-0123456789';

interface Numbers {
  on_hand: number;
  reserved: number;
  available: number;
}

interface StockChanged {
  sku: string;
  warehouse: string;
  before: Numbers;
  after: Numbers;
  movement: {
    id: number;
    type: string;
    reason: string | null;
    reference: string | null;
    reservation_id: string | null;
    delta_on_hand: number;
    delta_reserved: number;
  } | null;
}

interface ReservationEvent {
  id: string;
  order_ref: string;
  status: string;
  previous_status: string | null;
  lines: { sku: string; warehouse: string; qty: number; fulfilled: number; released: number }[];
}

interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** The events a receiver got, each once (by id, the first copy), in the order they arrived. */
export function distinct(receiver: HttpReceiver): Received[] {
  const seen = new Set<string>();
  const out: Received[] = [];
  for (const request of receiver.items) {
    const event = JSON.parse(request.body) as Received;
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    out.push(event);
  }
  return out;
}

/**
 * The outbox rows of a topic that name `mark`, in order, each as who wrote it: a group's own statement writes the
 * event as text with its keys in the API's order (`first` before `then`), a trigger builds it as jsonb, whose keys
 * go by length (`then` before `first`).
 */
const writers = async (h: Harness, topic: string, mark: string, first: string, then: string): Promise<string[]> =>
  (
    await h.s.db.query<{ payload: string }>(
      'SELECT payload::text AS payload FROM outbox WHERE topic = $1 AND strpos(payload::text, $2) > 0 ORDER BY id',
      [topic, mark],
    )
  ).rows.map(({ payload }) => (payload.indexOf(`"${first}"`) < payload.indexOf(`"${then}"`) ? 'statement' : 'trigger'));

const outboxCount = async (h: Harness): Promise<number> =>
  (await h.s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;

describe.each(drivers())('events for integrators on %s', (driver) => {
  const h = useStockroom(driver);
  const { closers, worker, openReceiver } = useDelivery(h);
  /** waits until the channel has nothing pending, then gives what arrived */
  const settled = async (receiver: HttpReceiver, channel: number) => {
    await expect
      .poll(
        async () =>
          (
            await h.s.db.query<{ n: number }>(
              `SELECT (SELECT count(*) FROM outbox WHERE delivered_at IS NULL)
                    + (SELECT count(*) FROM deliveries WHERE channel_id = $1 AND status = 'pending') AS n`,
              [channel],
            )
          ).rows[0]!.n,
        { timeout: 20_000 },
      )
      .toBe(0);
    return distinct(receiver);
  };

  it("writes a reservation's created event though the group built none, when a channel wanting it came since the last group", async () => {
    const { sku } = await world(h.s, [50]);
    // no channel: the group says so, and the next group builds no created events
    await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 1 }] });
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: `${receiver.url}/created`,
      events: ['reservation.created'],
      secret: SECRET,
    });
    // the first after the channel came: written by the reservations' trigger; the second: built by its group
    const first = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 2 }] });
    const second = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 3 }] });
    expect(await writers(h, 'reservation.created', sku, 'order_ref', 'status')).toEqual(['trigger', 'statement']);
    await worker().start();
    const events = await settled(receiver, hook.id);
    const shown = (reservation: typeof first) => ({
      id: reservation.id,
      order_ref: reservation.order_ref,
      status: 'pending',
      previous_status: null,
      expires_at: reservation.expires_at,
      created_at: reservation.created_at,
      updated_at: reservation.created_at,
      committed_at: null,
      closed_at: null,
      backordered: false,
      lines: reservation.lines.map((line) => ({
        sku: line.sku,
        warehouse: line.warehouse,
        qty: line.qty,
        backordered: 0,
        fulfilled: 0,
        released: 0,
      })),
    });
    expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual([
      { type: 'reservation.created', data: shown(first) },
      { type: 'reservation.created', data: shown(second) },
    ]);
  });

  it("writes a hold's stock.changed event though the group wrote none, when a channel wanting it came since the last group", async () => {
    const { sku, wh } = await world(h.s, [50]);
    const [warehouse] = wh as [string];
    // no channel: the group says so, and the next group's statement has no stock.changed events in it
    await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 1 }] });
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: `${receiver.url}/stock`,
      events: ['stock.changed'],
      secret: SECRET,
    });
    // the first after the channel came: written by the levels' trigger; the second: by its group's statement
    const first = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 2 }] });
    const second = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 3 }] });
    expect(await writers(h, 'stock.changed', sku, 'warehouse', 'before')).toEqual(['trigger', 'statement']);
    await worker().start();
    const events = (await settled(receiver, hook.id)).filter((e) => e.data['sku'] === sku);
    const { items: ledger } = await h.s.stock.movements({ sku, limit: 10 });
    const shown = (order: typeof first, reservedBefore: number, qty: number) => ({
      sku,
      warehouse,
      before: { on_hand: 50, reserved: reservedBefore, available: 50 - reservedBefore },
      after: { on_hand: 50, reserved: reservedBefore + qty, available: 50 - reservedBefore - qty },
      movement: {
        id: ledger.find((m) => m.reservation_id === order.id)!.id,
        type: 'reserve',
        reason: null,
        reference: order.order_ref,
        reservation_id: order.id,
        delta_on_hand: 0,
        delta_reserved: qty,
      },
    });
    expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual([
      { type: 'stock.changed', data: shown(first, 1, 2) },
      { type: 'stock.changed', data: shown(second, 3, 3) },
    ]);
  });

  it('sends every reservation change and every level change, signed, with the numbers before and after', async () => {
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: `${receiver.url}/events`,
      events: ['stock.*', 'reservation.*'],
      secret: SECRET,
    });
    const { sku, wh } = await world(h.s, [10]);
    const [warehouse] = wh as [string];
    const order = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 3 }] });
    await h.s.reservations.commit(order.id);
    await h.s.reservations.fulfil(order.id, { lines: [{ sku, qty: 1 }] });
    await h.s.reservations.fulfil(order.id);
    const cancelled = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 2 }] });
    await h.s.reservations.release(cancelled.id);
    const lapsed = await h.s.reservations.reserve({
      order_ref: uniq('web'),
      lines: [{ sku, qty: 4 }],
      ttl_seconds: 60,
    });
    h.clock.advance(61);
    expect(await h.s.reservations.expireDue()).toBe(1);
    await h.s.stock.receive({ sku, warehouse, qty: 5 });
    await worker().start();

    const events = await settled(receiver, hook.id);
    const ofOrder = (id: string) =>
      events
        .filter((e) => e.type.startsWith('reservation.') && (e.data as unknown as ReservationEvent).id === id)
        .map((e) => `${e.type}:${(e.data as unknown as ReservationEvent).status}`);
    expect(ofOrder(order.id)).toEqual([
      'reservation.created:pending',
      'reservation.committed:committed',
      'reservation.fulfilled:partially_fulfilled',
      'reservation.fulfilled:fulfilled',
    ]);
    expect(ofOrder(cancelled.id)).toEqual(['reservation.created:pending', 'reservation.released:released']);
    expect(ofOrder(lapsed.id)).toEqual(['reservation.created:pending', 'reservation.expired:expired']);
    const created = events.find((e) => e.type === 'reservation.created' && e.data['id'] === order.id)!;
    // the reservation as it was created, every field as GET shows it (written by the checkout's own statement)
    const iso = (t: unknown) => new Date(String(t)).toISOString();
    expect(created.data).toEqual({
      id: order.id,
      order_ref: order.order_ref,
      status: 'pending',
      previous_status: null,
      expires_at: iso(order.expires_at),
      created_at: iso(order.created_at),
      committed_at: null,
      closed_at: null,
      updated_at: iso(order.created_at),
      backordered: false,
      lines: [{ sku, warehouse, qty: 3, backordered: 0, fulfilled: 0, released: 0 }],
    });
    const partial = events.find((e) => e.type === 'reservation.fulfilled' && e.data['id'] === order.id)!;
    expect(partial.data).toMatchObject({
      status: 'partially_fulfilled',
      previous_status: 'committed',
      lines: [{ qty: 3, fulfilled: 1, released: 0 }],
    });

    // the level's chain: every ledger row of it, in order, each event starting where the one before ended
    const stock = events
      .filter((e) => e.type === 'stock.changed' && e.data['sku'] === sku)
      .map((e) => e.data as unknown as StockChanged);
    expect(stock.map((e) => `${e.movement?.type}:${e.movement?.delta_on_hand}/${e.movement?.delta_reserved}`)).toEqual([
      'receive:10/0',
      'reserve:0/3',
      'fulfil:-1/-1',
      'fulfil:-2/-2',
      'reserve:0/2',
      'release:0/-2',
      'reserve:0/4',
      'expire:0/-4',
      'receive:5/0',
    ]);
    expect(stock[1]).toMatchObject({
      warehouse,
      before: { on_hand: 10, reserved: 0, available: 10 },
      after: { on_hand: 10, reserved: 3, available: 7 },
      movement: { reservation_id: order.id, reference: order.order_ref },
    });
    for (const [i, e] of stock.entries()) {
      if (i > 0) expect(e.before).toEqual(stock[i - 1]!.after);
      expect(e.after.on_hand - e.before.on_hand).toBe(e.movement?.delta_on_hand);
      expect(e.after.reserved - e.before.reserved).toBe(e.movement?.delta_reserved);
    }
    expect(stock.at(-1)!.after).toEqual({ on_hand: 12, reserved: 0, available: 12 });
    const { items: ledger } = await h.s.stock.movements({ sku, limit: 100 });
    expect(stock.map((e) => e.movement?.id)).toEqual(ledger.map((m) => m.id).sort((a, b) => a - b));

    for (const request of receiver.items) {
      const body = JSON.parse(request.body) as Received;
      expect(request.headers['x-stockroom-event']).toBe(body.type);
      expect(request.headers['x-stockroom-event-id']).toBe(body.id);
      expect(
        verifyWebhook(
          SECRET,
          request.body,
          String(request.headers['x-stockroom-signature']),
          Math.floor(Date.now() / 1000),
        ),
      ).toBe(true);
    }
  });

  it('names the changes made after checkout: amended, moved, released in part, unfulfilled, and a state move', async () => {
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: `${receiver.url}/events`,
      events: ['stock.changed', 'reservation.*'],
      secret: SECRET,
    });
    const { sku, wh } = await world(h.s, [10, 10]);
    const [home, away] = wh as [string, string];
    const order = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 4 }] });
    await h.s.reservations.amend(order.id, { lines: [{ sku, qty: 5 }] });
    await h.s.reservations.move(order.id, { sku, qty: 2, to: away });
    await h.s.reservations.releaseLines(order.id, { lines: [{ sku, qty: 1, warehouse: home }] });
    await h.s.reservations.commit(order.id);
    await h.s.reservations.fulfil(order.id);
    await h.s.reservations.unfulfil(order.id, { lines: [{ sku, qty: 1, warehouse: away }] });
    await h.s.stock.moveState({ sku, warehouse: home, qty: 1, from: 'available', to: 'damaged', reason: 'damaged' });
    await worker().start();

    const events = await settled(receiver, hook.id);
    expect(
      events
        .filter((e) => e.type.startsWith('reservation.') && e.data['id'] === order.id)
        .map((e) => `${e.type}:${String(e.data['status'])}`),
    ).toEqual([
      'reservation.created:pending',
      'reservation.amended:pending',
      'reservation.moved:pending',
      'reservation.released:pending',
      'reservation.committed:committed',
      'reservation.fulfilled:fulfilled',
      'reservation.unfulfilled:partially_fulfilled',
    ]);
    // every level's chain stays continuous through them, and matches its ledger
    for (const warehouse of [home, away]) {
      const chain = events
        .filter((e) => e.type === 'stock.changed' && e.data['sku'] === sku && e.data['warehouse'] === warehouse)
        .map((e) => e.data as unknown as StockChanged);
      for (const [i, e] of chain.entries()) if (i > 0) expect(e.before).toEqual(chain[i - 1]!.after);
      const level = (await h.s.stock.get(sku)).warehouses.find((row) => row.warehouse === warehouse)!;
      expect(chain.at(-1)!.after).toEqual({
        on_hand: level.on_hand,
        reserved: level.reserved,
        available: level.available,
      });
    }
    await h.s.reservations.fulfil(order.id);
  });

  it('writes nothing when no channel wants these events, and sends a channel only the types it picked', async () => {
    const other = await h.s.channels.addWebhook({
      url: 'http://127.0.0.1:9/never',
      events: ['low_stock', 'stock.shortfall'],
      secret: SECRET,
    });
    const { sku } = await world(h.s, [50]);
    const before = await outboxCount(h);
    const quiet = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 1 }] });
    await h.s.reservations.commit(quiet.id);
    await h.s.reservations.fulfil(quiet.id);
    expect(await outboxCount(h)).toBe(before); // no subscriber: no row, no delivery
    const staged = await h.s.db.query('SELECT 1 FROM reservation_changes');
    expect(staged.rows).toEqual([]);
    await h.s.channels.remove(other.id);

    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: `${receiver.url}/committed`,
      events: ['reservation.committed'],
      secret: SECRET,
    });
    const last = (await h.s.db.query<{ id: number }>('SELECT coalesce(max(id), 0)::int AS id FROM outbox')).rows[0]!.id;
    const picked = await h.s.reservations.reserve({ order_ref: uniq('web'), lines: [{ sku, qty: 2 }] });
    await h.s.reservations.commit(picked.id);
    await h.s.reservations.release(picked.id);
    const rows = await h.s.db.query<{ event: string }>('SELECT event FROM outbox WHERE id > $1 ORDER BY id', [last]);
    expect(rows.rows.map((r) => r.event)).toEqual(['reservation.committed']); // nothing nobody wants is written
    await worker().start();
    const events = await settled(receiver, hook.id);
    expect(events.map((e) => `${e.type}:${String(e.data['id'])}`)).toEqual([`reservation.committed:${picked.id}`]);
  });

  it('holds later events of a variant back while an earlier one waits for its retry', async () => {
    const receiver = await openReceiver();
    // the first try of the first event fails: the rest of its variant waits for the retry, not only its channel
    receiver.answer = (n) => (n === 0 ? { status: 503 } : { status: 200 });
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['stock.changed'], secret: SECRET });
    const { sku, wh } = await world(h.s, [0]);
    for (let i = 1; i <= 5; i++) await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: i });
    await worker().start();
    const events = await settled(receiver, hook.id);
    const chain = events
      .filter((e) => e.data['sku'] === sku)
      .map((e) => (e.data as unknown as StockChanged).after.on_hand);
    expect(chain).toEqual([1, 3, 6, 10, 15]);
    expect(receiver.items.length).toBe(events.length + 1); // the failed try came again, first
  });

  it('sends events of different variants to one channel side by side, up to its concurrency, each variant in order', async () => {
    const receiver = await openReceiver();
    // the first four tries hang (until the worker's timeout): four at once, one per variant, and nothing after them
    receiver.answer = (n) => (n < 4 ? 'hang' : { status: 200 });
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['stock.changed'], secret: SECRET });
    const worlds = [];
    for (let i = 0; i < 6; i++) worlds.push(await world(h.s, [0]));
    const skus = worlds.map((x) => x.sku);
    for (const qty of [1, 2]) for (const x of worlds) await h.s.stock.receive({ sku: x.sku, warehouse: x.wh[0]!, qty });
    const w = new DeliveryWorker(h.s.db, { pollMs: 20, backoffMs: 20, timeoutMs: 2000, concurrency: 4 });
    closers.push(() => w.stop());
    await w.start();

    const first = (await receiver.received(4)).map((r) => JSON.parse(r.body) as Received);
    expect(new Set(first.map((e) => e.data['sku'])).size).toBe(4);
    expect(first.map((e) => (e.data as unknown as StockChanged).after.on_hand)).toEqual([1, 1, 1, 1]);
    const claimed = await h.s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE channel_id = $1 AND attempts > 0`,
      [hook.id],
    );
    expect(claimed.rows[0]!.n).toBe(4);

    const events = (await settled(receiver, hook.id)).filter((e) => skus.includes(String(e.data['sku'])));
    for (const sku of skus)
      expect(
        events.filter((e) => e.data['sku'] === sku).map((e) => (e.data as unknown as StockChanged).after.on_hand),
      ).toEqual([1, 3]);
    // every try, the ones that hung too: nothing later of a variant went out before an earlier one had got through
    const last = new Map<string, number>();
    for (const request of receiver.items) {
      const event = JSON.parse(request.body) as Received;
      const sku = String(event.data['sku']);
      expect(Number(event.id)).toBeGreaterThanOrEqual(last.get(sku) ?? 0);
      last.set(sku, Number(event.id));
    }
  });

  it('keeps each variant and reservation in order with two workers sending at once and tries failing', async () => {
    const receiver = await openReceiver();
    receiver.answer = (n) => (n % 4 === 1 ? { status: 503 } : { status: 200 });
    const hook = await h.s.channels.addWebhook({
      url: receiver.url,
      events: ['stock.changed', 'reservation.*'],
      secret: SECRET,
    });
    const skus = [(await world(h.s, [40])).sku, (await world(h.s, [40])).sku];
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const order = await h.s.reservations.reserve({
          order_ref: uniq('two'),
          lines: [{ sku: skus[i % 2]!, qty: 2 }],
        });
        if (i % 3 === 0) await h.s.reservations.release(order.id);
        else await h.s.reservations.fulfil(order.id);
      }),
    );
    await Promise.all([worker().start(), worker().start()]);
    const events = await settled(receiver, hook.id);
    // every try, failed ones too, in order per key: nothing later of a variant or reservation went out before an
    // earlier one had got through
    const last = new Map<string, number>();
    for (const request of receiver.items) {
      const event = JSON.parse(request.body) as Received;
      const key = event.type === 'stock.changed' ? `sku:${String(event.data['sku'])}` : `r:${String(event.data['id'])}`;
      expect(Number(event.id)).toBeGreaterThanOrEqual(last.get(key) ?? 0);
      last.set(key, Number(event.id));
    }
    expect(events.filter((e) => e.type === 'reservation.created')).toHaveLength(12);
    expect(events.filter((e) => e.type === 'stock.changed' && skus.includes(String(e.data['sku'])))).toHaveLength(
      2 + 12 * 2,
    );
  });
  it('sends the events of a group of orders as one delivery: one request each to a plain webhook, one batch to a batch webhook', async () => {
    const single = await openReceiver();
    const batched = await openReceiver();
    const one = await h.s.channels.addWebhook({
      url: single.url,
      events: ['stock.*', 'reservation.*'],
      secret: SECRET,
    });
    const many = await h.s.channels.addWebhook({
      url: batched.url,
      events: ['stock.*', 'reservation.*'],
      secret: SECRET,
      batch: true,
    });
    expect(many.batch).toBe(true);
    expect(one.batch).toBe(false);
    const skus: string[] = [];
    for (let i = 0; i < 6; i++) skus.push((await world(h.s, [20])).sku);
    // concurrent callers: the group commit writes several orders' levels and reservations in one statement each
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        h.s.reservations.reserve({ order_ref: uniq('grp'), lines: [{ sku: skus[i % 6]!, qty: 1 }] }),
      ),
    );
    const batches = await h.s.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox WHERE ordering_key = 'batch'",
    );
    expect(batches.rows[0]!.n).toBeGreaterThan(0);
    await worker().start();
    await settled(single, one.id);
    await settled(batched, many.id);
    const plain = distinct(single);
    const fromBatches: Received[] = [];
    for (const request of batched.items) {
      expect(request.headers['x-stockroom-event']).toBe('batch');
      expect(
        verifyWebhook(SECRET, request.body, String(request.headers['x-stockroom-signature']), Date.now() / 1000),
      ).toBe(true);
      const body = JSON.parse(request.body) as { events: Received[] };
      expect(Number(request.headers['x-stockroom-batch-size'])).toBe(body.events.length);
      fromBatches.push(...body.events);
    }
    // the same events, ids and all, whichever way they travelled; fewer requests than events in batches
    const byId = (events: Received[]) => [...events].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byId(fromBatches)).toEqual(byId(plain));
    expect(plain.filter((e) => e.type === 'reservation.created')).toHaveLength(30);
    expect(plain.filter((e) => e.type === 'stock.changed')).toHaveLength(6 + 30);
    expect(batched.items.length).toBeLessThan(fromBatches.length);
    expect(new Set(plain.map((e) => e.id)).size).toBe(plain.length);
    // per variant, the chain of numbers is the ledger's, in id order
    for (const sku of skus) {
      const chain = byId(plain)
        .filter((e) => e.type === 'stock.changed' && e.data['sku'] === sku)
        .map((e) => (e.data as unknown as StockChanged).after.reserved);
      expect(chain).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it('writes any text of a movement into its event as it was given: quotes, backslashes, control characters, emoji', async () => {
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['stock.changed'], secret: SECRET });
    const { sku, wh } = await world(h.s, [5]);
    const reason = 'correction';
    const reference = 'said "recount" \\ twice\n\ttab \u0001 ünïcödé 📦 </script> {"json": [1]}';
    await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -2, reason, reference });
    await worker().start();
    const events = await settled(receiver, hook.id);
    const adjusted = events.find((e) => (e.data as unknown as StockChanged).movement?.type === 'adjust')!;
    expect((adjusted.data as unknown as StockChanged).movement).toMatchObject({ reason, reference, delta_on_hand: -2 });
    expect((adjusted.data as unknown as StockChanged).after).toEqual({ on_hand: 3, reserved: 0, available: 3 });
  });

  it('gives a batch webhook one delivery per dispatch, of every row it takes: one request, only the events it wants, in id order', async () => {
    const batched = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: batched.url,
      events: ['stock.changed', 'reservation.committed'],
      secret: SECRET,
      batch: true,
    });
    const { sku } = await world(h.s, [20]);
    // one order at a time: each change its own outbox row
    for (let i = 0; i < 5; i++) {
      const order = await h.s.reservations.reserve({ order_ref: uniq('gather'), lines: [{ sku, qty: 1 }] });
      await h.s.reservations.commit(order.id);
    }
    const waiting = (
      await h.s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL')
    ).rows[0]!.n;
    expect(waiting).toBeGreaterThan(5);
    await worker().start();
    await settled(batched, hook.id);
    // one dispatch, one delivery of every row, one request
    const deliveries = await h.s.db.query<{ rows: number }>(
      'SELECT cardinality(outbox_ids) AS rows FROM deliveries WHERE channel_id = $1',
      [hook.id],
    );
    expect(deliveries.rows).toEqual([{ rows: waiting }]);
    expect(batched.items).toHaveLength(1);
    const { events } = JSON.parse(batched.items[0]!.body) as { events: Received[] };
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['stock.changed', 'reservation.committed']));
    expect(events.filter((e) => e.type === 'reservation.committed')).toHaveLength(5);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(
      events.filter((e) => e.type === 'stock.changed').map((e) => (e.data as unknown as StockChanged).after.reserved),
    ).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('sends a batch webhook more than 500 events in requests of 500 at most, rows as written and of the older form alike, and a retry only what did not get through', async () => {
    const batched = await openReceiver();
    batched.answer = (n) => (n === 1 ? { status: 503 } : { status: 200 });
    const hook = await h.s.channels.addWebhook({
      url: batched.url,
      events: ['stock.changed'],
      secret: SECRET,
      batch: true,
    });
    const { wh } = await world(h.s, [0]);
    const warehouse = wh[0]!;
    const prefix = uniq('BULK');
    const skus = Array.from({ length: 700 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    await h.s.db.query(
      `WITH p AS (INSERT INTO products (title) VALUES ($1) RETURNING id),
       v AS (INSERT INTO variants (product_id, sku) SELECT p.id, sku FROM p, unnest($2::text[]) AS sku RETURNING id)
       INSERT INTO stock_levels (variant_id, warehouse_id) SELECT v.id, w.id FROM v, warehouses w WHERE w.code = $3`,
      [prefix, skus, warehouse],
    );
    // a stock take of all of them: one statement, one outbox row of 700 events written as they are sent
    await h.s.stock.importOnHand(
      ['sku,warehouse,on_hand', ...skus.map((sku, i) => `${sku},${warehouse},${i + 1}`)].join('\n'),
    );
    // two levels' safety stock in one statement: the level trigger's row of two events, of the older form
    await h.s.db.query(
      `UPDATE stock_levels SET safety_stock = 1
        WHERE variant_id IN (SELECT id FROM variants WHERE sku = ANY ($1::text[]))
          AND warehouse_id = (SELECT id FROM warehouses WHERE code = $2)`,
      [skus.slice(0, 2), warehouse],
    );
    // a change of one level: a row of its own
    await h.s.stock.receive({ sku: skus[2]!, warehouse, qty: 5 });
    // and ten levels in one statement: a row of ten events as sent, joined into its request whole
    await h.s.stock.importOnHand(
      ['sku,warehouse,on_hand', ...skus.slice(10, 20).map((sku) => `${sku},${warehouse},100`)].join('\n'),
    );
    await worker().start();
    await settled(batched, hook.id);

    const requests = batched.items.map((request) => {
      expect(
        verifyWebhook(SECRET, request.body, String(request.headers['x-stockroom-signature']), Date.now() / 1000),
      ).toBe(true);
      const { events } = JSON.parse(request.body) as { events: (Received & { created_at: string })[] };
      expect(Number(request.headers['x-stockroom-batch-size'])).toBe(events.length);
      expect(events.length).toBeLessThanOrEqual(500);
      return events;
    });
    // 500, then the rest: the second request was refused once and sent again as it was; nothing else came twice
    expect(requests.map((events) => events.length)).toEqual([500, 213, 213]);
    expect(requests[2]).toEqual(requests[1]);
    const events = [...requests[0]!, ...requests[2]!];
    const ids = events.map((e) => Number(e.id));
    expect(new Set(ids).size).toBe(713);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const e of events) {
      expect(Object.keys(e)).toEqual(['id', 'type', 'created_at', 'data']);
      expect(e.type).toBe('stock.changed');
      expect(e.id).toMatch(/^\d+$/);
      expect(new Date(e.created_at).toISOString()).toBe(e.created_at);
    }
    const data = events.map((e) => e.data as unknown as StockChanged);
    expect(data.slice(0, 700).map((d) => [d.sku, d.after.on_hand])).toEqual(skus.map((sku, i) => [sku, i + 1]));
    expect(data.slice(700, 702).map((d) => [d.sku, d.movement, d.after.available])).toEqual([
      [skus[0], null, 0],
      [skus[1], null, 1],
    ]);
    expect(data[702]).toMatchObject({ sku: skus[2], after: { on_hand: 8, available: 8 } });
    expect(data.slice(703).map((d) => [d.sku, d.before.on_hand, d.after.on_hand])).toEqual(
      skus.slice(10, 20).map((sku, i) => [sku, i + 11, 100]),
    );
  });

  it('commits a dispatch and a settle without waiting for the disk, a claim only when asked (it counts the try), and nothing else', async () => {
    await h.s.channels.addWebhook({ url: 'http://127.0.0.1:9/never', events: ['stock.changed'], secret: SECRET });
    const { sku, wh } = await world(h.s, [0]);
    await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 1 });
    const setting = async (step: (tx: Parameters<Parameters<typeof h.s.db.transaction>[0]>[0]) => Promise<unknown>) =>
      h.s.db.transaction(async (tx) => {
        // as a production server has it (the test cluster runs with it off)
        await tx.exec('SET LOCAL synchronous_commit = on');
        await step(tx);
        return (await tx.query<{ value: string }>("SELECT current_setting('synchronous_commit') AS value")).rows[0]!
          .value;
      });
    expect(await setting((tx) => dispatchOutbox(tx, 500))).toBe('off');
    const claimed: { id: number; attempt: number }[] = [];
    // the claim counts the try: that must survive a crash
    expect(await setting(async (tx) => claimed.push(...(await claimDeliveries(tx, 10, 60_000, undefined, 16))))).toBe(
      'on',
    );
    expect(claimed).toHaveLength(1);
    const outcome = { startedAt: new Date(), durationMs: 1, ok: true, statusCode: 200, error: null, sent: [] };
    expect(
      await setting((tx) =>
        recordAttempts(tx, [{ deliveryId: claimed[0]!.id, attempt: claimed[0]!.attempt, retryInMs: null, ...outcome }]),
      ),
    ).toBe('off');
    // as a worker on a database server claims: the count outlives the worker's process whatever befalls it
    await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 1 });
    await h.s.db.transaction((tx) => dispatchOutbox(tx, 500));
    expect(
      await setting(async (tx) => claimed.push(...(await claimDeliveries(tx, 10, 60_000, undefined, 16, false)))),
    ).toBe('off');
    expect(claimed).toHaveLength(2);
    // only theirs: any other statement leaves it as it was
    expect(await setting((tx) => tx.query('SELECT count(*) FROM stock_levels'))).toBe('on');
  });

  it("caps a batch webhook's delivery by payload size: a backlog of rows is several deliveries, in order", async () => {
    const hook = await h.s.channels.addWebhook({
      url: 'http://127.0.0.1:9/never',
      events: ['stock.changed'],
      secret: SECRET,
      batch: true,
    });
    const { sku, wh } = await world(h.s, [0]);
    for (let i = 0; i < 6; i++) await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 1 });
    const sizes = await h.s.db.query<{ size: number }>(
      'SELECT pg_column_size(payload) AS size FROM outbox WHERE delivered_at IS NULL ORDER BY id',
    );
    expect(sizes.rows.length).toBeGreaterThanOrEqual(6);
    // room for two rows a delivery
    const cap = sizes.rows[0]!.size * 2;
    await h.s.db.transaction((tx) => dispatchOutbox(tx, 500, cap));
    const { rows } = await h.s.db.query<{ ids: string[] }>(
      'SELECT outbox_ids::text[] AS ids FROM deliveries WHERE channel_id = $1 ORDER BY id',
      [hook.id],
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const ids = rows.flatMap((row) => row.ids.map(Number));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).toHaveLength(sizes.rows.length);
  });

  it('keeps a batch webhook in order per variant and reservation with two workers dispatching while orders come and tries failing', async () => {
    const receiver = await openReceiver();
    receiver.answer = (n) => (n % 3 === 1 ? { status: 503 } : { status: 200 });
    const hook = await h.s.channels.addWebhook({
      url: receiver.url,
      events: ['stock.changed', 'reservation.*'],
      secret: SECRET,
      batch: true,
    });
    const skus = [(await world(h.s, [60])).sku, (await world(h.s, [60])).sku, (await world(h.s, [60])).sku];
    await Promise.all([worker().start(), worker().start()]);
    // in waves, so dispatches, tries and their retries interleave with the orders
    for (let wave = 0; wave < 8; wave++) {
      await Promise.all(
        Array.from({ length: 3 }, async (_, i) => {
          const order = await h.s.reservations.reserve({
            order_ref: uniq('gathered'),
            lines: [{ sku: skus[i % 3]!, qty: 2 }],
          });
          if ((wave + i) % 3 === 0) await h.s.reservations.release(order.id);
          else await h.s.reservations.fulfil(order.id);
        }),
      );
      await receiver.received(wave + 1);
    }
    await settled(receiver, hook.id);
    // every try, failed ones too: an event new to the receiver comes after every earlier one of its key, and a
    // retried try sends again only events that came before
    const last = new Map<string, number>();
    const seen = new Map<string, Received>();
    for (const request of receiver.items)
      for (const event of (JSON.parse(request.body) as { events: Received[] }).events) {
        const key =
          event.type === 'stock.changed' ? `sku:${String(event.data['sku'])}` : `r:${String(event.data['id'])}`;
        if (seen.has(event.id)) {
          expect(Number(event.id), `a repeat of ${event.id} of ${key}`).toBeLessThanOrEqual(last.get(key) ?? 0);
          continue;
        }
        expect(Number(event.id), `${event.type} ${event.id} of ${key}`).toBeGreaterThan(last.get(key) ?? 0);
        last.set(key, Number(event.id));
        seen.set(event.id, event);
      }
    const events = [...seen.values()];
    expect(events.filter((e) => e.type === 'reservation.created')).toHaveLength(24);
    expect(events.filter((e) => e.type === 'stock.changed' && skus.includes(String(e.data['sku'])))).toHaveLength(
      3 + 24 * 2,
    );
    expect(receiver.items.some((_, n) => n % 3 === 1)).toBe(true);
  });

  it('retries a delivery of many events with only the events that did not get through', async () => {
    const receiver = await openReceiver();
    // the third request fails once: its event, and those not sent yet, go again; the first two do not
    receiver.answer = (n) => (n === 2 ? { status: 503 } : { status: 200 });
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['stock.changed'], secret: SECRET });
    const { sku, wh } = await world(h.s, [0]);
    const others = [(await world(h.s, [0])).sku, (await world(h.s, [0])).sku, (await world(h.s, [0])).sku];
    // one statement receiving four SKUs: one delivery of four events
    await h.s.stock.importOnHand(
      ['sku,warehouse,on_hand', ...[sku, ...others].map((x) => `${x},${wh[0]!},5`)].join('\n'),
    );
    const w = new DeliveryWorker(h.s.db, { pollMs: 20, backoffMs: 20, timeoutMs: 2000, concurrency: 1 });
    closers.push(() => w.stop());
    await w.start();
    const events = await settled(receiver, hook.id);
    expect(events).toHaveLength(4);
    const ids = receiver.items.map((r) => (JSON.parse(r.body) as Received).id);
    expect(ids).toHaveLength(5); // four events and the failed try's one again
    expect(new Set(ids.slice(0, 2)).size).toBe(2);
    expect(ids.filter((id) => id === ids[2])).toHaveLength(2);
    const delivery = await h.s.db.query<{ sent: string[]; status: string }>(
      'SELECT sent::text[] AS sent, status FROM deliveries WHERE channel_id = $1',
      [hook.id],
    );
    expect(delivery.rows).toEqual([{ sent: ids.slice(0, 2), status: 'delivered' }]);
  });
});

import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/domain/signature.js';
import { drivers } from './support/databases.js';
import { httpReceiver } from './support/receivers.js';
import type { HttpReceiver } from './support/receivers.js';
import { ADMIN_KEY, adminCall, apiCall, expectServerDatabaseReconciled, serverDatabase } from './support/served.js';
import type { ServerDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

const SECRET = 'whsec-events-run-0123456789';
const SKUS = ['RUN-A', 'RUN-B', 'RUN-C', 'RUN-D'];
const WAREHOUSES = ['RUN-N', 'RUN-S'];

interface Numbers {
  on_hand: number;
  reserved: number;
  available: number;
}
interface Event {
  id: string;
  type: string;
  data: {
    id?: string;
    status?: string;
    sku?: string;
    warehouse?: string;
    before?: Numbers;
    after?: Numbers;
    movement?: { id: number } | null;
  };
}

/** A small deterministic generator, so a failing run can be told again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * One order's life over HTTP: reserve one or two SKUs, then (by its number) commit and ship, cancel, commit, ship part,
 * or leave it pending. A refusal (short stock) is an answer like any other; a failure (the server killed) ends it.
 */
async function order(server: ServerProcess, n: number, next: () => number): Promise<void> {
  const lines = [{ sku: SKUS[n % SKUS.length]!, qty: 1 + Math.floor(next() * 3) }];
  if (next() < 0.4) lines.push({ sku: SKUS[(n + 1) % SKUS.length]!, qty: 1 + Math.floor(next() * 2) });
  const reserved = await apiCall(server, 'POST', '/v1/reservations', { body: { order_ref: `run-${n}`, lines } });
  if (reserved.status !== 201) return;
  const id = String(reserved.body['id']);
  switch (n % 5) {
    case 0:
      await apiCall(server, 'POST', `/v1/reservations/${id}/commit`);
      await apiCall(server, 'POST', `/v1/reservations/${id}/fulfil`, { body: {} });
      break;
    case 1:
      await apiCall(server, 'POST', `/v1/reservations/${id}/cancel`);
      break;
    case 2:
      await apiCall(server, 'POST', `/v1/reservations/${id}/commit`);
      break;
    case 3:
      await apiCall(server, 'POST', `/v1/reservations/${id}/fulfil`, {
        body: { lines: [{ sku: lines[0]!.sku, qty: 1 }] },
      });
      break;
    default:
      break;
  }
}

/** Runs orders [from, to) with `clients` at once; failures (a killed server) end an order, not the run. */
async function runOrders(server: ServerProcess, from: number, to: number, clients = 12): Promise<void> {
  let cursor = from;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let n = cursor++; n < to; n = cursor++) {
        await order(server, n, random(n + 1)).catch(() => undefined);
      }
    }),
  );
}

/** Restocks every level a little, so the run keeps selling. */
async function restock(server: ServerProcess, qty: number): Promise<void> {
  for (const sku of SKUS)
    for (const warehouse of WAREHOUSES) await adminCall(server, 'POST', '/v1/stock/receive', { sku, warehouse, qty });
}

/** Waits until the server has sent every event of the run: nothing pending, and every ledger row's event in each. */
async function drained(server: ServerProcess, receivers: readonly HttpReceiver[]): Promise<void> {
  await expect
    .poll(
      async () => {
        const pending = await adminCall(server, 'GET', '/v1/deliveries?status=pending&limit=1');
        const ledger = await ledgerSize(server);
        return `pending ${(pending['items'] as unknown[]).length}, ledger rows without their event ${receivers.map((r) => ledger - stockEvents(r)).join(' and ')}`;
      },
      { timeout: 240_000, interval: 200 },
    )
    .toBe(`pending 0, ledger rows without their event ${receivers.map(() => 0).join(' and ')}`);
}

/** The events a receiver got in the order they came: one a request, or each of a batch request's. */
const eventsOf = (receiver: HttpReceiver): Event[] =>
  receiver.items.flatMap((r) => {
    const body = JSON.parse(r.body) as Event | { events: Event[] };
    return 'events' in body ? body.events : [body];
  });

const stockEvents = (receiver: HttpReceiver): number =>
  new Set(
    eventsOf(receiver)
      .filter((e) => e.type === 'stock.changed')
      .map((e) => e.id),
  ).size;

async function ledgerSize(server: ServerProcess): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await adminCall(
      server,
      'GET',
      `/v1/movements?limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    count += (page['items'] as unknown[]).length;
    cursor = page['next_cursor'] as string | null;
  } while (cursor !== null);
  return count;
}

/** What the receiver got, checked against the database's ledger and reservations. */
async function expectAsTheLedgerSays(database: ServerDatabase, receiver: HttpReceiver): Promise<void> {
  for (const r of receiver.items)
    expect(
      verifyWebhook(SECRET, r.body, String(r.headers['x-stockroom-signature']), Math.floor(Date.now() / 1000)),
    ).toBe(true);
  const arrivals = eventsOf(receiver);
  // in order per variant and per reservation at first arrival; a repeat (at least once) is of an event that already
  // came: a delivery cut short by the kill is sent again whole, a batch's earlier events of a key included
  const last = new Map<string, number>();
  const seen = new Set<string>();
  for (const event of arrivals) {
    const key = event.type === 'stock.changed' ? `sku:${event.data.sku}` : `reservation:${event.data.id}`;
    const id = Number(event.id);
    if (seen.has(event.id)) {
      expect(id, `a repeat of ${event.id} of ${key} that came before`).toBeLessThanOrEqual(last.get(key) ?? 0);
      continue;
    }
    expect(id, `${event.type} ${event.id} after ${last.get(key)} of ${key}`).toBeGreaterThan(last.get(key) ?? 0);
    seen.add(event.id);
    last.set(key, id);
  }
  const byId = new Map(arrivals.map((e) => [e.id, e]));
  const events = [...byId.values()].sort((a, b) => Number(a.id) - Number(b.id));

  const s = await database.open();
  try {
    const { rows: ledger } = await s.db.query<{
      id: number;
      sku: string;
      warehouse: string;
      on_hand_after: number;
      reserved_after: number;
    }>(
      `SELECT m.id::int, v.sku, w.code AS warehouse, m.on_hand_after, m.reserved_after
         FROM stock_movements m JOIN variants v ON v.id = m.variant_id JOIN warehouses w ON w.id = m.warehouse_id
        ORDER BY m.id`,
    );
    const stock = events.filter((e) => e.type === 'stock.changed');
    // exactly the ledger: one event per row, with its numbers
    const byMovement = [...stock].sort((a, b) => a.data.movement!.id - b.data.movement!.id);
    expect(byMovement.map((e) => e.data.movement?.id)).toEqual(ledger.map((m) => m.id));
    expect(
      byMovement.map((e) => [e.data.sku, e.data.warehouse, e.data.after?.on_hand, e.data.after?.reserved]),
    ).toEqual(ledger.map((m) => [m.sku, m.warehouse, m.on_hand_after, m.reserved_after]));
    // continuous per level: each event starts where the level's previous one ended, from an empty level
    const levelAt = new Map<string, Numbers>();
    for (const e of stock) {
      const level = `${e.data.sku}@${e.data.warehouse}`;
      expect(e.data.before, `${level} event ${e.id}`).toEqual(
        levelAt.get(level) ?? { on_hand: 0, reserved: 0, available: 0 },
      );
      levelAt.set(level, e.data.after!);
    }
    // every reservation: created first, and its last event is how it stands
    const { rows: reservations } = await s.db.query<{ id: string; status: string }>(
      'SELECT id::text, status FROM reservations',
    );
    const ofReservation = new Map<string, Event[]>();
    for (const e of events.filter((e) => e.type.startsWith('reservation.'))) {
      ofReservation.set(e.data.id!, [...(ofReservation.get(e.data.id!) ?? []), e]);
    }
    expect(ofReservation.size).toBe(reservations.length);
    for (const reservation of reservations) {
      const seen = ofReservation.get(reservation.id) ?? [];
      expect(seen[0]?.type).toBe('reservation.created');
      expect(seen.at(-1)?.data.status).toBe(reservation.status);
    }
    expect(reservations.length).toBeGreaterThan(360); // most orders were taken (some were short, some died with the server)
  } finally {
    await s.close();
  }
}

describe.each(drivers())('events of a 600-order run on %s', (driver) => {
  it('reach a local receiver exactly as the ledger says, in order per variant, across a SIGKILL mid-run, one by one and in batches', async () => {
    const database = await serverDatabase(driver);
    const receiver = await httpReceiver();
    // a batch webhook beside the plain one: its deliveries are gathered per dispatch (migration 0020)
    const batched = await httpReceiver();
    const env = {
      ...database.env,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_DELIVERY_TIMEOUT_MS: '1000',
      STOCKROOM_DELIVERY_BACKOFF_MS: '50',
    };
    try {
      const first = await startServer(env);
      await adminCall(first, 'POST', '/v1/webhooks', {
        url: `${receiver.url}/events`,
        events: ['stock.*', 'reservation.*'],
        secret: SECRET,
      });
      await adminCall(first, 'POST', '/v1/webhooks', {
        url: `${batched.url}/events`,
        events: ['stock.*', 'reservation.*'],
        secret: SECRET,
        batch: true,
      });
      for (const [i, code] of WAREHOUSES.entries())
        await adminCall(first, 'POST', '/v1/warehouses', { code, name: code, priority: 10 - i });
      for (const sku of SKUS) await adminCall(first, 'POST', '/v1/variants', { sku, product: { title: sku } });
      await restock(first, 240);
      await runOrders(first, 0, 240);
      // killed while orders are being taken and events sent: what was acknowledged is in the database, and so
      // are its events, which the next process sends (those in flight again: at least once)
      const killed = runOrders(first, 240, 360);
      await receiver.received(receiver.items.length + 50);
      await first.kill();
      await killed;

      const second = await startServer(env);
      try {
        await restock(second, 180);
        await runOrders(second, 360, 600);
        await drained(second, [receiver, batched]);
      } finally {
        expect(await second.stop()).toBe(0);
      }
      await expectAsTheLedgerSays(database, receiver);
      await expectAsTheLedgerSays(database, batched);
      // gathered: fewer requests than events
      expect(batched.items.length).toBeLessThan(eventsOf(batched).length / 4);
      await expectServerDatabaseReconciled(database);
    } finally {
      await receiver.close();
      await batched.close();
      await database.cleanup();
    }
  }, 600_000);
});

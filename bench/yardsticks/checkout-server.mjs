/**
 * The hand-written checkout (issue 18): Fastify + pg, `POST /v1/reservations` taking { order_ref, lines: [{ sku,
 * qty }] }, one transaction per request: the bench's one-statement reservation (RESERVE_SQL of
 * bench/scenarios/reserve.ts, passed in CHECKOUT_SQL) as a prepared (named) statement from a pool of 20.
 * 201 with the reservation, 409 when no level has the stock. Started by bench/yardsticks/yardsticks.ts as a
 * process of its own, on DATABASE_URL (announcements off in its options, the alert trigger switched off by the
 * bench meanwhile, as for the baseline); tells its port over IPC.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const sql = process.env.CHECKOUT_SQL;
if (!sql) throw new Error('CHECKOUT_SQL is not set');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
/** warehouse id -> code, for the answer: two rows, read once */
const warehouses = new Map(
  (await pool.query('SELECT id, code FROM warehouses')).rows.map((r) => [String(r.id), String(r.code)]),
);

const app = Fastify({ logger: false });

app.post('/v1/reservations', async (req, reply) => {
  const body = /** @type {{ order_ref?: unknown; lines?: { sku?: unknown; qty?: unknown }[] }} */ (req.body ?? {});
  const line = Array.isArray(body.lines) && body.lines.length === 1 ? body.lines[0] : undefined;
  const qty = line?.qty;
  if (
    typeof body.order_ref !== 'string' ||
    typeof line?.sku !== 'string' ||
    typeof qty !== 'number' ||
    !Number.isInteger(qty) ||
    qty < 1
  )
    // one line per order is what the bench sends: more would take a transaction of several statements
    return reply.code(400).send({ error: 'invalid_input', message: 'order_ref and one line { sku, qty } expected' });
  const id = randomUUID();
  // one statement, so one transaction, as the baseline: find the level, conditional UPDATE, reservation, line,
  // ledger row
  const { rows } = await pool.query({ name: 'reserve', text: sql, values: [line.sku, qty, id, body.order_ref] });
  const row = rows[0];
  if (!row) return reply.code(409).send({ error: 'insufficient_stock', message: `not enough ${line.sku} in stock` });
  const created = new Date(row.created_at);
  return reply.code(201).send({
    id,
    order_ref: body.order_ref,
    unique_order_ref: true,
    status: 'pending',
    expires_at: new Date(created.getTime() + 15 * 60_000).toISOString(),
    created_at: created.toISOString(),
    committed_at: null,
    closed_at: null,
    backordered: false,
    lines: [
      {
        sku: line.sku,
        warehouse: warehouses.get(String(row.warehouse_id)) ?? '?',
        qty,
        backordered: 0,
        fulfilled: 0,
        released: 0,
      },
    ],
  });
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});

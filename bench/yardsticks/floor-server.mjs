/**
 * The floor over HTTP (issue 18): the least server that group-commits reservations. Fastify, `POST
 * /v1/reservations` taking { order_ref, lines: [{ sku, qty }] } as the checkout does; the requests that arrive
 * while other groups are running are written together by the floor's one bare statement (FLOOR_SQL of
 * bench/yardsticks/floor.ts, passed in FLOOR_SQL: a reservation's rows, nothing planned, locked first or checked),
 * in lanes (FLOOR_LANES, below), each running one group at a time on a connection of its own. Each SKU
 * goes to one level chosen once at start (an in-memory map), so a request costs the server what HTTP, JSON and
 * the pg protocol cost and the database what the rows cost: what any design that writes these rows over HTTP
 * spends at least. Started by bench/yardsticks/yardsticks.ts as a process of its own, on DATABASE_URL; tells its
 * port over IPC.
 */
import Fastify from 'fastify';
import pg from 'pg';
// stockroom's own time-ordered ids (built: the bench runs the built server too), so an id costs what it costs there
import { timeOrderedUuid } from '../../dist/services/time-ordered-ids.js';

const sql = process.env.FLOOR_SQL;
if (!sql) throw new Error('FLOOR_SQL is not set');
/** lanes, so groups running at once (the bench gives two); and the most requests a group takes, as stockroom's */
const MAX_IN_FLIGHT = Number(process.env.FLOOR_LANES ?? 2);
const MAX_GROUP = 250;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: MAX_IN_FLIGHT });

/** sku -> the level its reservations are written to: the one with the most available */
const levels = new Map();
for (const row of (
  await pool.query(
    `SELECT DISTINCT ON (l.variant_id) v.sku, l.variant_id, l.warehouse_id, w.code AS warehouse
       FROM stock_levels l JOIN variants v ON v.id = l.variant_id JOIN warehouses w ON w.id = l.warehouse_id
      ORDER BY l.variant_id, l.available DESC`,
  )
).rows)
  levels.set(row.sku, { variant: row.variant_id, warehouse: row.warehouse_id, code: row.warehouse });

/**
 * One lane a connection, each SKU's requests in one lane (by variant id): groups that run at once never touch the
 * same level, so they never wait on each other's row locks or deadlock (stockroom locks a group's levels in key
 * order first, which the floor does not do).
 * @type {{ queue: { level: { variant: string; warehouse: string; code: string }; resolve: (written: { id: string; at: Date }) => void; reject: (error: unknown) => void }[]; running: boolean; scheduled: boolean }[]}
 */
const lanes = Array.from({ length: MAX_IN_FLIGHT }, () => ({ queue: [], running: false, scheduled: false }));
/** groups written and the requests in them, for the mean group size */
const stats = { groups: 0, jobs: 0 };

/** Writes the lane's queue as one group (a level at most once in it: one statement updates a row once). */
async function runGroup(lane) {
  const group = [];
  const rest = [];
  const seen = new Set();
  for (const waiting of lane.queue) {
    const key = `${waiting.level.variant}:${waiting.level.warehouse}`;
    if (group.length < MAX_GROUP && !seen.has(key)) {
      seen.add(key);
      group.push(waiting);
    } else rest.push(waiting);
  }
  lane.queue = rest;
  lane.running = true;
  try {
    // time-ordered, as stockroom's: a random id lands on a random page of every index it is in
    const ids = group.map(() => timeOrderedUuid());
    const { rowCount } = await pool.query({
      name: 'bench-floor',
      text: sql,
      values: [ids, group.map((w) => w.level.variant), group.map((w) => w.level.warehouse)],
    });
    if (rowCount !== group.length) throw new Error(`a group wrote ${rowCount} ledger rows of ${group.length}`);
    stats.groups += 1;
    stats.jobs += group.length;
    const at = new Date();
    group.forEach((waiting, i) => waiting.resolve({ id: ids[i], at }));
  } catch (error) {
    for (const waiting of group) waiting.reject(error);
  } finally {
    lane.running = false;
    schedule(lane);
  }
}

/** A free lane takes whatever it has queued on the next turn of the event loop: the requests read in this one. */
function schedule(lane) {
  if (lane.scheduled || lane.running || lane.queue.length === 0) return;
  lane.scheduled = true;
  setImmediate(() => {
    lane.scheduled = false;
    if (!lane.running && lane.queue.length > 0) void runGroup(lane);
  });
}

const app = Fastify({ logger: false });

app.post('/v1/reservations', async (req, reply) => {
  const body = /** @type {{ order_ref?: unknown; lines?: { sku?: unknown; qty?: unknown }[] }} */ (req.body ?? {});
  const line = Array.isArray(body.lines) && body.lines.length === 1 ? body.lines[0] : undefined;
  const level = typeof line?.sku === 'string' ? levels.get(line.sku) : undefined;
  if (typeof body.order_ref !== 'string' || !level || line?.qty !== 1)
    // the floor writes one unit of one known SKU: what the bench sends
    return reply.code(400).send({ error: 'invalid_input', message: 'order_ref and one line { sku, qty: 1 } expected' });
  const lane = lanes[Number(level.variant) % lanes.length];
  const { id, at } = await new Promise((resolve, reject) => {
    lane.queue.push({ level, resolve, reject });
    schedule(lane);
  });
  return reply.code(201).send({
    id,
    order_ref: body.order_ref,
    unique_order_ref: true,
    status: 'pending',
    expires_at: new Date(at.getTime() + 45_000).toISOString(),
    created_at: at.toISOString(),
    committed_at: null,
    closed_at: null,
    backordered: false,
    lines: [{ sku: line.sku, warehouse: level.code, qty: 1, backordered: 0, fulfilled: 0, released: 0 }],
  });
});

app.get('/groups', async () => stats);

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});

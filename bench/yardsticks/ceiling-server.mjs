/**
 * The HTTP ceiling (issue 18): Fastify with one route, `POST /v1/reservations`, that parses the JSON body as
 * Fastify does and answers 201 with a reservation-shaped JSON body of about the size of stockroom's, touching no
 * database. Started by bench/yardsticks/yardsticks.ts as a process of its own; tells its port over IPC.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const app = Fastify({ logger: false });

app.post('/v1/reservations', async (req, reply) => {
  const body = /** @type {{ order_ref?: unknown; lines?: { sku?: unknown; qty?: unknown }[] }} */ (req.body ?? {});
  const line = Array.isArray(body.lines) ? body.lines[0] : undefined;
  const now = Date.now();
  // the shape of stockroom's answer (src/http/responses.ts, Reservation), so the bytes written are alike
  return reply.code(201).send({
    id: randomUUID(),
    order_ref: body.order_ref,
    unique_order_ref: true,
    status: 'pending',
    expires_at: new Date(now + 15 * 60_000).toISOString(),
    created_at: new Date(now).toISOString(),
    committed_at: null,
    closed_at: null,
    backordered: false,
    lines: [{ sku: line?.sku, warehouse: 'WH-1', qty: line?.qty, backordered: 0, fulfilled: 0, released: 0 }],
  });
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

import type { Command } from 'commander';
import { FulfilInput, ReserveInput, parse } from '../services/schemas.js';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { formatReservation } from './output.js';
import { int, skuQty } from './args.js';

export function registerReservations(program: Command, ctx: () => CommandContext): void {
  program
    .command('reserve <order_ref> <lines...>')
    .description('hold stock for an order: lines as SKU:QTY, all or nothing')
    .option('--ttl <seconds>', 'seconds until an uncommitted reservation expires (default 900)', int)
    .option('--key <key>', 'idempotency key: repeating the command with it changes nothing')
    .option('--warehouse <code>', 'reserve only from this warehouse')
    .action(async (orderRef: string, lines: string[], o: { ttl?: number; key?: string; warehouse?: string }) => {
      const c = ctx();
      const input = { order_ref: orderRef, lines: skuQty('lines')(lines), ttl_seconds: o.ttl, warehouse: o.warehouse };
      const r = await withStockroom(c.env, (s) =>
        s.reservations.reserve(parse(ReserveInput, input), { actor: c.actor, idempotencyKey: o.key }),
      );
      c.print(r, formatReservation(r));
    });

  for (const [name, description] of [
    ['commit', 'payment received: the reservation no longer expires'],
    ['cancel', 'release what the reservation holds'],
  ] as const) {
    program
      .command(`${name} <reservation_id>`)
      .description(description)
      .option('--key <key>', 'idempotency key')
      .action(async (id: string, o: { key?: string }) => {
        const c = ctx();
        const options = { actor: c.actor, idempotencyKey: o.key };
        const r = await withStockroom(c.env, (s) =>
          name === 'commit' ? s.reservations.commit(id, options) : s.reservations.release(id, options),
        );
        c.print(r, formatReservation(r));
      });
  }

  program
    .command('fulfil <reservation_id> [lines...]')
    .description('ship: everything held, or only the SKU:QTY lines given')
    .option('--key <key>', 'idempotency key')
    .action(async (id: string, lines: string[], o: { key?: string }) => {
      const c = ctx();
      const input = lines.length > 0 ? { lines: skuQty('lines')(lines) } : {};
      const r = await withStockroom(c.env, (s) =>
        s.reservations.fulfil(id, parse(FulfilInput, input), { actor: c.actor, idempotencyKey: o.key }),
      );
      c.print(r, formatReservation(r));
    });

  program
    .command('reservation <reservation_id>')
    .description('show a reservation')
    .action(async (id: string) => {
      const c = ctx();
      const r = await withStockroom(c.env, (s) => s.reservations.get(id));
      c.print(r, formatReservation(r));
    });
}

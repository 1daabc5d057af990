import type { Command } from 'commander';
import { FulfilInput, ReserveInput, parse } from '../services/schemas.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { formatReservation } from './output.js';
import { int, skuQty } from './args.js';

interface ReserveOptions {
  ttl?: number;
  key?: string;
  warehouse?: string;
  allocation?: string;
  split: boolean;
}

/** `stockroom reserve`, `commit`, `cancel`, `fulfil` and `reservation`: holding stock for orders. */
export function registerReservations(program: Command, ctx: () => CommandContext): void {
  program
    .command('reserve <order_ref> <lines...>')
    .description('hold stock for an order: lines as SKU:QTY, all or nothing')
    .option('--ttl <seconds>', 'seconds until an uncommitted reservation expires (default 900)', int)
    .option('--key <key>', 'idempotency key: repeating the command with it changes nothing')
    .option('--warehouse <code>', 'reserve only from this warehouse')
    .option('--allocation <strategy>', "priority, most_available, nearest or fewest_shipments (default: the store's)")
    .option('--no-split', 'each line from one warehouse, or refused')
    .action(async (orderRef: string, lines: string[], options: ReserveOptions) => {
      const input = {
        order_ref: orderRef,
        lines: skuQty('lines')(lines),
        ttl_seconds: options.ttl,
        warehouse: options.warehouse,
        allocation: options.allocation,
        // commander sets split to true unless --no-split: say it only when it differs from the default
        split: options.split ? undefined : false,
      };
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.reservations.reserve(parse(ReserveInput, input), { ...call, idempotencyKey: options.key }),
        formatReservation,
      );
    });

  for (const [name, description] of [
    ['commit', 'payment received: the reservation no longer expires'],
    ['cancel', 'release what the reservation holds'],
  ] as const) {
    program
      .command(`${name} <reservation_id>`)
      .description(description)
      .option('--key <key>', 'idempotency key')
      .action(async (id: string, options: { key?: string }) => {
        await runAndPrint(
          ctx(),
          (stockroom, call) => {
            const keyed = { ...call, idempotencyKey: options.key };
            return name === 'commit'
              ? stockroom.reservations.commit(id, keyed)
              : stockroom.reservations.release(id, keyed);
          },
          formatReservation,
        );
      });
  }

  program
    .command('fulfil <reservation_id> [lines...]')
    .description('ship: everything held, or only the SKU:QTY lines given')
    .option('--key <key>', 'idempotency key')
    .action(async (id: string, lines: string[], options: { key?: string }) => {
      const input = lines.length > 0 ? { lines: skuQty('lines')(lines) } : {};
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.reservations.fulfil(id, parse(FulfilInput, input), { ...call, idempotencyKey: options.key }),
        formatReservation,
      );
    });

  program
    .command('reservation <reservation_id>')
    .description('show a reservation')
    .action(async (id: string) => {
      await runAndPrint(ctx(), (stockroom) => stockroom.reservations.get(id), formatReservation);
    });
}

import type { Command } from 'commander';
import { FulfilInput, ReserveInput, parse } from '../services/schemas.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { formatReservation, table, withMoreHint } from './output.js';
import { int, pageSizeOption, skuQty } from './args.js';

interface ReserveOptions {
  ttl?: number;
  key?: string;
  warehouse?: string;
  replace?: boolean;
  notUnique?: boolean;
}

/** `stockroom reserve`, `commit`, `cancel`, `fulfil`, `reservation` and `reservations list`: holding stock for orders. */
export function registerReservations(program: Command, ctx: () => CommandContext): void {
  program
    .command('reserve <order_ref> <lines...>')
    .description('hold stock for an order: lines as SKU:QTY, all or nothing')
    .option('--ttl <seconds>', 'seconds until an uncommitted reservation expires (default 900)', int)
    .option('--key <key>', 'idempotency key: repeating the command with it changes nothing')
    .option('--warehouse <code>', 'reserve only from this warehouse')
    .option('--replace', "replace the order's open pending reservation in one step")
    .option('--not-unique', 'allow other open reservations with this order_ref')
    .action(async (orderRef: string, lines: string[], options: ReserveOptions) => {
      const input = {
        order_ref: orderRef,
        lines: skuQty('lines')(lines),
        ttl_seconds: options.ttl,
        warehouse: options.warehouse,
        ...(options.replace ? { replace: true } : {}),
        ...(options.notUnique ? { unique_order_ref: false } : {}),
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

  program
    .command('reservations')
    .description('find reservations')
    .command('list')
    .description('reservations newest first, filtered, with how many match')
    .option('--status <status>', 'pending, committed, partially_fulfilled, fulfilled, released or expired')
    .option('--order-ref <ref>', 'of one order')
    .option('--sku <sku>', 'with a line of this SKU')
    .option('--warehouse <code>', 'with a line in this warehouse')
    .option('--created-after <time>', 'created after this ISO 8601 time')
    .option('--expires-before <time>', 'pending, with a deadline before this ISO 8601 time')
    .option('--limit <n>', 'how many', pageSizeOption, 50)
    .option('--cursor <cursor>', 'the next page, as the previous one said')
    .action(async (options: ListOptions) => {
      await runAndPrint(
        ctx(),
        (stockroom) =>
          stockroom.reservations.list({
            status: options.status,
            order_ref: options.orderRef,
            sku: options.sku,
            warehouse: options.warehouse,
            created_after: options.createdAfter,
            expires_before: options.expiresBefore,
            limit: options.limit,
            cursor: options.cursor,
          }),
        (page) =>
          withMoreHint(
            page,
            [
              `${page.total} reservation${page.total === 1 ? '' : 's'}`,
              table(
                ['ID', 'ORDER', 'STATUS', 'CREATED', 'EXPIRES', 'UNITS'],
                page.items.map((reservation) => [
                  reservation.id,
                  reservation.order_ref,
                  reservation.status,
                  reservation.created_at,
                  reservation.expires_at,
                  reservation.lines.reduce((sum, line) => sum + line.qty, 0),
                ]),
              ),
            ].join('\n'),
          ),
      );
    });
}

interface ListOptions {
  status?: string;
  orderRef?: string;
  sku?: string;
  warehouse?: string;
  createdAfter?: string;
  expiresBefore?: string;
  limit: number;
  cursor?: string;
}

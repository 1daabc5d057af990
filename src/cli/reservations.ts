import type { Command } from 'commander';
import {
  AmendInput,
  FulfilInput,
  MoveInput,
  ReleaseInput,
  ReserveInput,
  UnfulfilInput,
  parse,
} from '../services/schemas.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import type { CallOptions } from '../services/context.js';
import type { Reservation } from '../services/dto.js';
import type { Stockroom } from '../services/stockroom.js';
import { formatReservation, table, withMoreHint } from './output.js';
import { geoPointOption, idempotencyKeyOption, int, pageSizeOption, skuQty } from './args.js';

interface ReserveOptions {
  ttl?: number;
  key?: string;
  warehouse?: string;
  replace?: boolean;
  notUnique?: boolean;
  allocation?: string;
  split: boolean;
  region?: string;
  shipTo?: { lat: number | string; lon: number | string };
}

/** `stockroom reserve`, `commit`, `cancel`, `fulfil`, `reservation` and `reservations list`: holding stock for orders. */
export function registerReservations(program: Command, ctx: () => CommandContext): void {
  program
    .command('reserve <order_ref> <lines...>')
    .description('hold stock for an order: lines as SKU:QTY, all or nothing')
    .option('--ttl <seconds>', 'seconds until an uncommitted reservation expires (default 900)', int)
    .option('--key <key>', 'idempotency key: repeating the command with it changes nothing', idempotencyKeyOption)
    .option('--warehouse <code>', 'reserve only from this warehouse')
    .option('--replace', "replace the order's open pending reservation in one step")
    .option('--not-unique', 'allow other open reservations with this order_ref')
    .option('--allocation <strategy>', "priority, most_available, nearest or fewest_shipments (default: the store's)")
    .option('--no-split', 'each line from one warehouse, or refused')
    .option('--region <code>', 'the region the order ships to (only warehouses serving it)')
    .option('--ship-to <lat,lon>', 'where the order ships to (service radius; nearest routing)', geoPointOption)
    .action(async (orderRef: string, lines: string[], options: ReserveOptions) => {
      const input = {
        order_ref: orderRef,
        lines: skuQty('lines')(lines),
        ttl_seconds: options.ttl,
        warehouse: options.warehouse,
        ...(options.replace ? { replace: true } : {}),
        ...(options.notUnique ? { unique_order_ref: false } : {}),
        allocation: options.allocation,
        // commander sets split to true unless --no-split: say it only when it differs from the default
        split: options.split ? undefined : false,
        region: options.region,
        ship_to: options.shipTo,
      };
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.reservations.reserve(parse(ReserveInput, input), { ...call, idempotencyKey: options.key }),
        formatReservation,
      );
    });

  program
    .command('commit <reservation_id>')
    .description('payment received: the reservation no longer expires')
    .option('--key <key>', 'idempotency key', idempotencyKeyOption)
    .action(async (id: string, options: { key?: string }) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.reservations.commit(id, { ...call, idempotencyKey: options.key }),
        formatReservation,
      );
    });

  registerLinesCommand(
    program,
    ctx,
    'cancel',
    'release what the reservation holds, or only the SKU:QTY lines given',
    'the lines of a SKU held in several warehouses: the one in this warehouse',
    (stockroom, id, input, call) => stockroom.reservations.releaseLines(id, parse(ReleaseInput, input), call),
  );

  program
    .command('fulfil <reservation_id> [lines...]')
    .description('ship: everything held, or only the SKU:QTY lines given')
    .option('--ship-from <code>', 'ship the lines given from this warehouse (the hold moves there first)')
    .option('--key <key>', 'idempotency key', idempotencyKeyOption)
    .action(async (id: string, lines: string[], options: { key?: string; shipFrom?: string }) => {
      const input =
        lines.length > 0
          ? {
              lines: skuQty('lines')(lines).map((line) =>
                options.shipFrom === undefined ? line : { ...line, ship_from: options.shipFrom },
              ),
            }
          : {};
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
    .description('find and change reservations after checkout')
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
  registerReservationChanges(program, ctx);
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

/** `stockroom reservations amend|move|unfulfil`: changing a reservation after checkout. */
function registerReservationChanges(program: Command, ctx: () => CommandContext): void {
  // another command group may have made `reservations` already: its subcommands and these share it
  const group =
    program.commands.find((command) => command.name() === 'reservations') ??
    program.command('reservations').description('reservations after checkout: amend, move, unfulfil');

  group
    .command('amend <reservation_id> [lines...]')
    .description('lines as SKU:QTY, each to its new quantity (0 removes it; a new SKU is a new line), all or nothing')
    .option('--warehouse <code>', 'the lines of a SKU held in several warehouses, or where to hold new ones')
    .option('--ttl <seconds>', 'a pending reservation expires this many seconds from now', int)
    .option('--expires-at <time>', 'a pending reservation expires then (ISO 8601)')
    .option('--key <key>', 'idempotency key', idempotencyKeyOption)
    .action(
      async (
        id: string,
        lines: string[],
        options: { warehouse?: string; ttl?: number; expiresAt?: string; key?: string },
      ) => {
        const input = {
          ...(lines.length > 0 ? { lines: atWarehouse(skuQty('lines')(lines), options.warehouse) } : {}),
          ttl_seconds: options.ttl,
          expires_at: options.expiresAt,
        };
        await runAndPrint(
          ctx(),
          (stockroom, call) =>
            stockroom.reservations.amend(id, parse(AmendInput, input), { ...call, idempotencyKey: options.key }),
          formatReservation,
        );
      },
    );

  group
    .command('move <reservation_id> <sku> <to>')
    .description('hold the units of a SKU in another warehouse instead (all of them unless --qty)')
    .option('--qty <n>', 'units to move', int)
    .option('--from <code>', 'only those held in this warehouse')
    .option('--key <key>', 'idempotency key', idempotencyKeyOption)
    .action(async (id: string, sku: string, to: string, options: { qty?: number; from?: string; key?: string }) => {
      const input = { sku, to, qty: options.qty, from: options.from };
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.reservations.move(id, parse(MoveInput, input), { ...call, idempotencyKey: options.key }),
        formatReservation,
      );
    });

  registerLinesCommand(
    group,
    ctx,
    'unfulfil',
    'undo shipments: everything shipped, or the SKU:QTY lines given, back on hand and held again',
    'the lines of a SKU shipped from several warehouses: the one from this warehouse',
    (stockroom, id, input, call) => stockroom.reservations.unfulfil(id, parse(UnfulfilInput, input), call),
  );
}

/** A command on one reservation taking SKU:QTY lines (none: all of them), `--warehouse` to name a SKU's line. */
function registerLinesCommand(
  parent: Command,
  ctx: () => CommandContext,
  name: string,
  description: string,
  warehouseHelp: string,
  useCase: (stockroom: Stockroom, id: string, input: unknown, call: CallOptions) => Promise<Reservation>,
): void {
  parent
    .command(`${name} <reservation_id> [lines...]`)
    .description(description)
    .option('--warehouse <code>', warehouseHelp)
    .option('--key <key>', 'idempotency key', idempotencyKeyOption)
    .action(async (id: string, lines: string[], options: { key?: string; warehouse?: string }) => {
      const input = lines.length > 0 ? { lines: atWarehouse(skuQty('lines')(lines), options.warehouse) } : {};
      await runAndPrint(
        ctx(),
        (stockroom, call) => useCase(stockroom, id, input, { ...call, idempotencyKey: options.key }),
        formatReservation,
      );
    });
}

/** Lines named by SKU, in the warehouse given (if one is). */
const atWarehouse = <Line extends object>(lines: Line[], warehouse: string | undefined): Line[] =>
  warehouse === undefined ? lines : lines.map((line) => ({ ...line, warehouse }));

import { formatMoney } from '../domain/money.js';
import type { Level, Movement, Reservation } from '../services/dto.js';
import type { Page } from '../services/paging.js';
import type { PurchaseOrder } from '../services/purchasing.js';
import type { Stock } from '../services/stock.js';

/** Left-aligned columns; numbers right-aligned. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  const cells = [
    headers.map(String),
    ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell)))),
  ];
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A page as printed: its text, then how to ask for the next page when there is one. */
export function withMoreHint(page: Page<unknown>, text: string): string {
  return [text, ...(page.next_cursor ? [`(more: --cursor ${page.next_cursor})`] : [])].join('\n');
}

/** One level in a line: on hand, reserved and available of a SKU in a warehouse. */
export const formatLevel = (level: Level): string =>
  `${level.sku} at ${level.warehouse}: on hand ${level.on_hand}, reserved ${level.reserved}, available ${level.available}`;

/**
 * A SKU's stock as a table: one row per warehouse, then the total; under it, what reserved holds for paid orders
 * (committed) and for checkouts (pending), and the units in each state (a second table, so the first keeps the
 * columns it always had).
 */
export function formatStock(stock: Stock): string {
  const rows = stock.warehouses.map((warehouse) => [
    warehouse.warehouse,
    warehouse.on_hand,
    warehouse.reserved,
    warehouse.available,
    warehouse.incoming,
    warehouse.bins.map((bin) => `${bin.bin}:${bin.qty}`).join(' ') || '-',
  ]);
  const total = stock.total;
  rows.push(['TOTAL', total.on_hand, total.reserved, total.available, total.incoming, '']);
  const states = [
    ...stock.warehouses.map((warehouse) => ({ name: warehouse.warehouse, ...warehouse })),
    { name: 'TOTAL', ...total },
  ].map((row) => [row.name, row.committed, row.pending, row.damaged, row.quality_control, row.safety_stock]);
  return [
    stock.sku,
    table(['WAREHOUSE', 'ON HAND', 'RESERVED', 'AVAILABLE', 'INCOMING', 'BINS'], rows),
    table(['WAREHOUSE', 'COMMITTED', 'PENDING', 'DAMAGED', 'QUALITY CONTROL', 'SAFETY STOCK'], states),
  ].join('\n');
}

/** A heading of labelled lines, then a table indented under it: how one reservation or order is shown. */
function formatDocument(head: readonly string[], lines: string): string {
  return `${head.join('\n')}\n${lines.replace(/^/gm, '  ')}`;
}

/** A reservation: its order, status and deadline, then its lines. */
export function formatReservation(reservation: Reservation): string {
  return formatDocument(
    [
      `reservation ${reservation.id}`,
      `  order      ${reservation.order_ref}`,
      `  status     ${reservation.status}${reservation.backordered ? ' (backordered)' : ''}`,
      ...(reservation.expires_at ? [`  expires at ${reservation.expires_at}`] : []),
    ],
    table(
      ['SKU', 'WAREHOUSE', 'QTY', 'BACKORDERED', 'FULFILLED', 'RELEASED'],
      reservation.lines.map((line) => [
        line.sku,
        line.warehouse,
        line.qty,
        line.backordered,
        line.fulfilled,
        line.released,
      ]),
    ),
  );
}

/** Ledger rows as a table, deltas signed. */
export function formatMovements(items: readonly Movement[]): string {
  const signed = (delta: number): string => (delta > 0 ? `+${delta}` : String(delta));
  return table(
    ['ID', 'WHEN', 'WAREHOUSE', 'TYPE', 'ON HAND', 'RESERVED', 'AFTER', 'REASON', 'REFERENCE', 'ACTOR'],
    items.map((movement) => [
      movement.id,
      movement.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      movement.warehouse,
      movement.type,
      signed(movement.delta_on_hand),
      signed(movement.delta_reserved),
      `${movement.on_hand_after}/${movement.reserved_after}`,
      movement.reason,
      movement.reference,
      movement.actor,
    ]),
  );
}

/** A purchase order: supplier, warehouse, status and date, then its lines with what is still outstanding. */
export function formatPurchaseOrder(order: PurchaseOrder): string {
  return formatDocument(
    [
      `purchase order ${order.id}`,
      `  supplier   ${order.supplier}`,
      `  warehouse  ${order.warehouse}`,
      `  status     ${order.status}${order.origin === 'replenishment' ? ' (drafted by replenishment)' : ''}`,
      `  expected   ${order.expected_date ?? '-'}`,
    ],
    table(
      [
        'SKU',
        'ORDERED',
        'RECEIVED',
        'OUTSTANDING',
        `UNIT COST${order.currency === null ? '' : ` (${order.currency})`}`,
      ],
      order.lines.map((line) => [
        line.sku,
        line.qty,
        line.received_qty,
        line.outstanding,
        line.unit_cost === null || order.currency === null ? null : formatMoney(line.unit_cost, order.currency),
      ]),
    ),
  );
}

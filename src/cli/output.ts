import type { Level, Movement, Reservation } from '../services/dto.js';
import type { PurchaseOrder } from '../services/purchasing.js';
import type { Stock } from '../services/stock.js';

/** Where a command writes. Tests pass their own to read what a command said. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Left-aligned columns; numbers right-aligned. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  const cells = [
    headers.map(String),
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c)))),
  ];
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const formatLevel = (l: Level): string =>
  `${l.sku} at ${l.warehouse}: on hand ${l.on_hand}, reserved ${l.reserved}, available ${l.available}`;

export function formatStock(s: Stock): string {
  const rows = s.warehouses.map((w) => [
    w.warehouse,
    w.on_hand,
    w.reserved,
    w.available,
    w.incoming,
    w.bins.map((b) => `${b.bin}:${b.qty}`).join(' ') || '-',
  ]);
  rows.push(['TOTAL', s.total.on_hand, s.total.reserved, s.total.available, s.total.incoming, '']);
  return `${s.sku}\n${table(['WAREHOUSE', 'ON HAND', 'RESERVED', 'AVAILABLE', 'INCOMING', 'BINS'], rows)}`;
}

export function formatReservation(r: Reservation): string {
  const head = [
    `reservation ${r.id}`,
    `  order      ${r.order_ref}`,
    `  status     ${r.status}${r.backordered ? ' (backordered)' : ''}`,
    ...(r.expires_at ? [`  expires at ${r.expires_at}`] : []),
  ];
  const lines = table(
    ['SKU', 'WAREHOUSE', 'QTY', 'BACKORDERED', 'FULFILLED', 'RELEASED'],
    r.lines.map((l) => [l.sku, l.warehouse, l.qty, l.backordered, l.fulfilled, l.released]),
  );
  return `${head.join('\n')}\n${lines.replace(/^/gm, '  ')}`;
}

export function formatMovements(items: readonly Movement[]): string {
  const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
  return table(
    ['ID', 'WHEN', 'WAREHOUSE', 'TYPE', 'ON HAND', 'RESERVED', 'AFTER', 'REASON', 'REFERENCE', 'ACTOR'],
    items.map((m) => [
      m.id,
      m.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      m.warehouse,
      m.type,
      signed(m.delta_on_hand),
      signed(m.delta_reserved),
      `${m.on_hand_after}/${m.reserved_after}`,
      m.reason,
      m.reference,
      m.actor,
    ]),
  );
}

export function formatPurchaseOrder(o: PurchaseOrder): string {
  const head = [
    `purchase order ${o.id}`,
    `  supplier   ${o.supplier}`,
    `  warehouse  ${o.warehouse}`,
    `  status     ${o.status}${o.origin === 'replenishment' ? ' (drafted by replenishment)' : ''}`,
    `  expected   ${o.expected_date ?? '-'}`,
  ];
  const lines = table(
    ['SKU', 'ORDERED', 'RECEIVED', 'OUTSTANDING'],
    o.lines.map((l) => [l.sku, l.qty, l.received_qty, l.outstanding]),
  );
  return `${head.join('\n')}\n${lines.replace(/^/gm, '  ')}`;
}

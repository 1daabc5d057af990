import type { Movement } from '../api.js';

/** A point of the chart: after a movement, the totals over every warehouse. */
interface Point {
  at: number;
  onHand: number;
  available: number;
}

/**
 * On hand and on hand less reserved summed over the warehouses, after each row of the ledger: the
 * ledger's rows carry each level's numbers after the movement, so the history needs no other source.
 */
export function historyOf(movements: readonly Movement[]): Point[] {
  const byWarehouse = new Map<string, { onHand: number; reserved: number }>();
  const points: Point[] = [];
  const oldestFirst = [...movements].sort((a, b) => a.id - b.id);
  for (const movement of oldestFirst) {
    byWarehouse.set(movement.warehouse, { onHand: movement.on_hand_after, reserved: movement.reserved_after });
    let onHand = 0;
    let reserved = 0;
    for (const level of byWarehouse.values()) {
      onHand += level.onHand;
      reserved += level.reserved;
    }
    points.push({ at: Date.parse(movement.created_at), onHand, available: onHand - reserved });
  }
  return points;
}

const WIDTH = 640;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const HEIGHT = 200;
const PAD = { left: 40, right: 10, top: 10, bottom: 24 };

/** A step chart of on hand and available over time, drawn from the ledger (the latest 200 rows). */
export function LedgerChart({ movements }: { movements: readonly Movement[] }) {
  const history = historyOf(movements);
  const latest = history.at(-1);
  if (!latest) return <p class="muted">No movements yet.</p>;
  // the last numbers hold until now
  const points = [...history, { ...latest, at: Math.max(Date.now(), latest.at) }];
  const last = points.at(-1) ?? latest;
  const first = points[0] ?? last;
  const start = first.at;
  const end = Math.max(last.at, start + 1);
  const top = Math.max(1, ...points.map((point) => Math.max(point.onHand, point.available)));
  const bottom = Math.min(0, ...points.map((point) => point.available));
  const x = (at: number) => PAD.left + ((at - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => PAD.top + ((top - value) / (top - bottom)) * (HEIGHT - PAD.top - PAD.bottom);
  const steps = (value: (point: Point) => number) =>
    points
      .map((point, i) => {
        const previous = points[i - 1];
        const here = `${x(point.at).toFixed(1)},${y(value(point)).toFixed(1)}`;
        return previous ? `${x(point.at).toFixed(1)},${y(value(previous)).toFixed(1)} ${here}` : here;
      })
      .join(' ');
  // a range within a day is told apart by its times; a longer one by its dates
  const label = (at: number) =>
    end - start >= DAY
      ? new Date(at).toLocaleDateString()
      : new Date(at).toLocaleTimeString(undefined, {
          hour: '2-digit',
          minute: '2-digit',
          ...(end - start < HOUR ? { second: '2-digit' } : {}),
        });
  const summary = `From ${new Date(start).toLocaleString()} to ${new Date(last.at).toLocaleString()}: on hand ${String(first.onHand)} to ${String(last.onHand)}, on hand less reserved ${String(first.available)} to ${String(last.available)}, over ${String(history.length)} movements.`;
  return (
    <figure style={{ margin: 0 }} class="card">
      <svg class="chart" viewBox={`0 0 ${String(WIDTH)} ${String(HEIGHT)}`} role="img" aria-label={summary}>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} stroke="#8a939b" />
        <text x={PAD.left - 6} y={y(top) + 4} text-anchor="end" font-size="11" fill="#50585f">
          {top}
        </text>
        <text x={PAD.left - 6} y={y(0) + 4} text-anchor="end" font-size="11" fill="#50585f">
          0
        </text>
        <text x={PAD.left} y={HEIGHT - 6} font-size="11" fill="#50585f">
          {label(start)}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end" font-size="11" fill="#50585f">
          {label(last.at)}
        </text>
        <polyline points={steps((point) => point.onHand)} fill="none" stroke="#0b5cad" stroke-width="2" />
        <polyline
          points={steps((point) => point.available)}
          fill="none"
          stroke="#17652c"
          stroke-width="2"
          stroke-dasharray="5 3"
        />
      </svg>
      <figcaption class="legend">
        <span style={{ color: '#0b5cad' }}>On hand</span>
        <span style={{ color: '#17652c' }}>
          On hand − reserved, dashed (the available count above also takes off safety stock, damaged and quality
          control)
        </span>
      </figcaption>
    </figure>
  );
}

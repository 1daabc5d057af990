import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import { benchSku } from '../seed.js';
import { drive } from '../support/load.js';
import type { LoadResult, Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import { cpuSplit, sampleRss } from '../support/process.js';
import type { CpuSplit } from '../support/process.js';
import type { BenchContext, ScenarioResult } from '../support/report.js';

const CONNECTIONS = 64;

/**
 * The baseline: the same reservation as one statement in its own transaction, straight against PostgreSQL from
 * node-postgres: find the SKU's level with the stock (highest priority first), a conditional UPDATE of it, the
 * reservation, its line and the ledger row. One commit per order, nothing else in the way: what a careful
 * hand-written checkout does.
 */
const RESERVE_SQL = `
WITH lvl AS (
  SELECT l.variant_id, l.warehouse_id FROM stock_levels l
    JOIN variants v ON v.id = l.variant_id JOIN warehouses w ON w.id = l.warehouse_id
   WHERE v.sku = $1 AND l.on_hand - l.reserved - l.safety_stock >= $2
   ORDER BY w.priority DESC, l.on_hand - l.reserved DESC LIMIT 1
), upd AS (
  UPDATE stock_levels s SET reserved = s.reserved + $2, updated_at = now() FROM lvl
   WHERE s.variant_id = lvl.variant_id AND s.warehouse_id = lvl.warehouse_id AND s.on_hand - s.reserved - s.safety_stock >= $2
  RETURNING s.variant_id, s.warehouse_id, s.on_hand, s.reserved
), r AS (
  INSERT INTO reservations (id, order_ref, status, expires_at, created_at, updated_at)
  SELECT $3, $4, 'pending', now() + interval '15 minutes', now(), now() FROM upd
), rl AS (
  INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty)
  SELECT $3, 1, variant_id, warehouse_id, $2 FROM upd
)
INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after, reserved_after, reference, actor, reservation_id)
SELECT variant_id, warehouse_id, 'reserve', 0, $2, on_hand, reserved, $4, 'bench-baseline', $3 FROM upd`;

/** One reservation per transaction, straight against PostgreSQL, from `CONNECTIONS` connections. */
export async function baselineLoad(ctx: BenchContext, options: { seconds?: number; maxCalls?: number; workers?: number }, skuOf: (n: number) => string): Promise<LoadResult> {
  const workers = options.workers ?? CONNECTIONS;
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: Math.min(workers, CONNECTIONS) });
  try {
    await Promise.all(Array.from({ length: Math.min(workers, CONNECTIONS) }, () => pool.query('SELECT 1')));
    return await drive({ workers, ...options }, async (n): Promise<Outcome> => {
      const { rowCount } = await pool.query(RESERVE_SQL, [skuOf(n), 1, randomUUID(), `baseline-${n}`]);
      return rowCount === 1 ? 'ok' : 'refused';
    });
  } finally {
    await pool.end();
  }
}

/** Reservations through `POST /v1/reservations` of the server under test. */
export async function httpLoad(
  ctx: BenchContext,
  options: { seconds?: number; maxCalls?: number; workers?: number; connections?: number },
  skuOf: (n: number) => string,
): Promise<LoadResult & { peakRssMb: number; cpu: CpuSplit }> {
  const workers = options.workers ?? CONNECTIONS;
  const client = new Pool(ctx.server.url, { connections: options.connections ?? workers, pipelining: 1 });
  const headers = { authorization: `Bearer ${ctx.adminKey}`, 'content-type': 'application/json' };
  const rss = sampleRss(ctx.server.pid);
  const cpu = cpuSplit(ctx.server.pid);
  try {
    const result = await drive({ workers, ...options }, async (n): Promise<Outcome> => {
      const res = await client.request({
        method: 'POST',
        path: '/v1/reservations',
        headers,
        body: JSON.stringify({ order_ref: `bench-${n}`, lines: [{ sku: skuOf(n), qty: 1 }] }),
      });
      const text = await res.body.text();
      if (res.statusCode === 201) return 'ok';
      if (res.statusCode === 409) return 'refused';
      throw new Error(`${res.statusCode}: ${text}`);
    });
    return { ...result, peakRssMb: round(rss.end(), 1), cpu: cpu.end() };
  } finally {
    await client.close();
  }
}

/** Where the CPU went, per 1,000 calls: with two cores, this says which party is the bottleneck. */
export const cpuPer1000 = (r: { calls: number; cpu: CpuSplit }): string =>
  [r.cpu.server, r.cpu.postgres, r.cpu.client].map((s) => round((1000 * s) / r.calls, 3)).join(' / ');

const randomSku = (variants: number) => (): string => benchSku(1 + Math.floor(Math.random() * variants));

/**
 * Random-SKU reservations over HTTP with 64 connections, against the same reservation one transaction per
 * request straight against PostgreSQL (the baseline), in the same run on the same catalog.
 */
export async function reserveScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.quick ? 8 : 20;
  const sku = randomSku(ctx.variants);
  // warm both paths (connections, caches, JIT) before measuring
  await baselineLoad(ctx, { seconds: 1 }, sku);
  await httpLoad(ctx, { seconds: 2 }, sku);
  const baseline = await baselineLoad(ctx, { seconds }, sku);
  const http = await httpLoad(ctx, { seconds }, sku);
  if (http.errors > 0 || baseline.errors > 0) throw new Error(`reservations failed: ${http.firstError ?? baseline.firstError ?? ''}`);
  return {
    name: 'reserve',
    title: `Reservations of one random SKU of ${ctx.variants.toLocaleString('en')}, ${CONNECTIONS} concurrent connections`,
    figures: {
      'baseline: one transaction per reservation, straight to PostgreSQL, per second': baseline.perSecond,
      'baseline p50 / p99 ms': `${baseline.p50Ms} / ${baseline.p99Ms}`,
      'stockroom over HTTP (group commit), per second': http.perSecond,
      'stockroom p50 / p99 ms': `${http.p50Ms} / ${http.p99Ms}`,
      'stockroom / baseline': round(http.perSecond / baseline.perSecond),
      'reservations made (baseline, stockroom)': `${baseline.ok}, ${http.ok}`,
      'server peak RSS, MB': http.peakRssMb,
      'CPU seconds per 1,000 reservations: server / PostgreSQL / load generator': cpuPer1000(http),
    },
  };
}

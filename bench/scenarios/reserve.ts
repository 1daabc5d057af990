import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { InsufficientStockError } from '../../src/domain/errors.js';
import { Stockroom } from '../../src/services/stockroom.js';
import type { Db } from '../../src/store/db.js';
import { benchSku } from '../seed.js';
import { drive, uniqueOrderRef } from '../support/load.js';
import type { LoadResult, Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import { cpuSplit, sampleRss } from '../support/process.js';
import type { CpuSplit } from '../support/process.js';
import type { ScenarioResult } from '../support/report.js';
import { BASELINE_CONNECTIONS } from '../support/target.js';
import type { Target } from '../support/target.js';
import { floorFigures, floorSweptAway, measureFloor, measureFloorOverHttp, serverGroups } from '../yardsticks/floor.js';
import {
  clusterOf,
  measureHttp,
  measureLibrary,
  measureYardsticks,
  yardstickFigures,
} from '../yardsticks/yardsticks.js';

const CONNECTIONS = 64;

/**
 * The baseline: the same reservation as one statement in its own transaction, straight against the database:
 * find the SKU's level with the stock (highest priority first), a conditional UPDATE of it, the reservation,
 * its line and the ledger row. One commit per order and nothing else in the way: what a careful hand-written
 * checkout does.
 */
export const RESERVE_SQL = `
WITH lvl AS (
  SELECT l.variant_id, l.warehouse_id FROM stock_levels l
    JOIN variants v ON v.id = l.variant_id JOIN warehouses w ON w.id = l.warehouse_id
   WHERE v.sku = $1 AND l.available >= $2
   ORDER BY w.priority DESC, l.on_hand - l.reserved DESC LIMIT 1
), upd AS (
  UPDATE stock_levels s SET reserved = s.reserved + $2, updated_at = now() FROM lvl
   WHERE s.variant_id = lvl.variant_id AND s.warehouse_id = lvl.warehouse_id AND s.available >= $2
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

export interface Load {
  seconds?: number;
  maxCalls?: number;
  /** callers at once (default 64) */
  workers?: number;
}

/** One reservation per transaction, straight against the database. */
export function baselineLoad(target: Target, load: Load, skuOf: (n: number) => string): Promise<LoadResult> {
  // a hand-written checkout has no change announcements (migration 0005): each would cost it a database-wide
  // lock at commit, one commit per order; nor threshold alerts (migration 0007)
  return target.straight({ announce: false, alerts: false }, async (db: Db) => {
    const workers = load.workers ?? BASELINE_CONNECTIONS;
    return drive({ ...load, workers }, async (n): Promise<Outcome> => {
      const { rowCount } = await db.query(RESERVE_SQL, [skuOf(n), 1, randomUUID(), uniqueOrderRef('baseline')]);
      return rowCount === 1 ? 'ok' : 'refused';
    });
  });
}

/**
 * Reservations through the library in this process (group commit, no HTTP): what the engine does on its own; with
 * the mean size of its groups.
 */
export function libraryLoad(
  target: Target,
  load: Load,
  skuOf: (n: number) => string,
): Promise<LoadResult & { meanGroup: number }> {
  return target.straight({ announce: true, alerts: true }, async (db: Db) => {
    const stockroom = new Stockroom({ db });
    const result = await drive({ ...load, workers: load.workers ?? CONNECTIONS }, async (n): Promise<Outcome> => {
      try {
        await stockroom.reservations.reserve({
          order_ref: uniqueOrderRef('library'),
          lines: [{ sku: skuOf(n), qty: 1 }],
        });
        return 'ok';
      } catch (error) {
        if (error instanceof InsufficientStockError) return 'refused';
        throw error;
      }
    });
    const { groups, jobs } = stockroom.reservations.groupCommitStats;
    return { ...result, meanGroup: jobs / groups };
  });
}

export type HttpLoadResult = LoadResult & { peakRssMb: number; cpu: CpuSplit };

/** Reservations through `POST /v1/reservations` of the server under test, each caller on a connection of its own. */
export function httpLoad(target: Target, load: Load, skuOf: (n: number) => string): Promise<HttpLoadResult> {
  return httpLoadOn(target.server(), target.adminKey, load, skuOf);
}

/**
 * The HTTP load generator: reservations through `POST /v1/reservations` of the server at `server.url` (process
 * `server.pid`), each caller on a connection of its own. The yardsticks' servers get exactly this load.
 */
export async function httpLoadOn(
  server: { url: string; pid: number },
  adminKey: string,
  load: Load,
  skuOf: (n: number) => string,
): Promise<HttpLoadResult> {
  const workers = load.workers ?? CONNECTIONS;
  const client = new Pool(server.url, { connections: workers, pipelining: 1 });
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const rss = sampleRss(server.pid);
  const cpu = cpuSplit(server.pid);
  try {
    const result = await drive({ ...load, workers }, async (n): Promise<Outcome> => {
      const res = await client.request({
        method: 'POST',
        path: '/v1/reservations',
        headers,
        body: JSON.stringify({ order_ref: uniqueOrderRef('bench'), lines: [{ sku: skuOf(n), qty: 1 }] }),
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

/** The whole machine's busy CPU per 1,000 calls (the kernel's share too): what a CPU-bound load is limited by. */
export const machineCpuPer1000 = (r: { calls: number; cpu: CpuSplit }): number =>
  round((1000 * r.cpu.machine) / r.calls, 3);

export function failIfErrors(...results: LoadResult[]): void {
  const failed = results.find((r) => r.errors > 0);
  if (failed) throw new Error(`${failed.errors} calls failed; the first: ${failed.firstError ?? '?'}`);
}

/**
 * Random-SKU reservations over HTTP with 64 connections, against the same reservation one transaction per
 * request straight against the database (the baseline), in the same run on the same catalog.
 */
export async function reserveScenario(target: Target): Promise<ScenarioResult> {
  const seconds = target.quick ? 8 : 20;
  const sku = (): string => benchSku(1 + Math.floor(Math.random() * target.variants));
  // warm both paths (connections, caches, JIT) before measuring
  await baselineLoad(target, { seconds: 1 }, sku);
  await httpLoad(target, { seconds: 2 }, sku);
  await libraryLoad(target, { seconds: 1 }, sku);
  // the database's CPU per load, counted as for the yardsticks (PostgreSQL: the bench's cluster only)
  const database = await clusterOf(target);
  const baseline = await baselineLoad(target, { seconds }, sku);
  const libraryRun = await measureLibrary(database, () => libraryLoad(target, { seconds }, sku));
  const library = libraryRun.result;
  const groupsBefore = await serverGroups(target.server(), target.adminKey);
  const { result: http, measured: httpRun } = await measureHttp(database, () => httpLoad(target, { seconds }, sku));
  const groupsAfter = await serverGroups(target.server(), target.adminKey);
  const httpGroup = (groupsAfter.jobs - groupsBefore.jobs) / (groupsAfter.groups - groupsBefore.groups);
  failIfErrors(baseline, library, http);
  // issue 18's yardsticks (PostgreSQL only): the same HTTP load generator against other servers, and pgbench
  const yardsticks = await measureYardsticks(target, database, {
    seconds,
    reserveSql: RESERVE_SQL,
    httpLoad: (server, load) => httpLoadOn(server, target.adminKey, load, sku),
  });
  // the floor of the rows, at the group sizes the two loads made (PostgreSQL only, as the yardsticks)
  const groups = { library: Math.round(library.meanGroup), http: Math.round(httpGroup) };
  const floorUrl = database === undefined ? undefined : target.databaseUrl;
  const floors =
    floorUrl === undefined || database === undefined
      ? undefined
      : await measureFloor(floorUrl, database, {
          variants: target.variants,
          // a load that made no group (every call refused) has no size to measure the floor at
          groups: [...new Set([groups.library, groups.http])].filter((group) => group > 0),
          seconds: target.quick ? 4 : 8,
        });
  // the least server that writes those rows over HTTP, driven as stockroom is
  const floorOverHttp =
    floorUrl === undefined || database === undefined
      ? undefined
      : await measureFloorOverHttp(floorUrl, database, {
          seconds: target.quick ? 4 : 8,
          httpLoad: (server, load) => httpLoadOn(server, target.adminKey, load, sku),
        });
  // the floor's reservations hold their units until the server's sweeper expires them: before the next load
  if (floorUrl !== undefined) await floorSweptAway(floorUrl);
  return {
    name: 'reserve',
    title: `Reservations of one random SKU of ${target.variants.toLocaleString('en')}, ${CONNECTIONS} concurrent connections`,
    figures: {
      'baseline: one transaction per reservation, straight to the database, per second': baseline.perSecond,
      'baseline p50 / p99 ms': `${baseline.p50Ms} / ${baseline.p99Ms}`,
      'stockroom as a library in the same process (group commit, no HTTP), per second': library.perSecond,
      'library / baseline': round(library.perSecond / baseline.perSecond),
      'stockroom over HTTP (group commit), per second': http.perSecond,
      'stockroom p50 / p99 ms': `${http.p50Ms} / ${http.p99Ms}`,
      'stockroom / baseline': round(http.perSecond / baseline.perSecond),
      'reservations made (baseline, library, HTTP)': `${baseline.ok}, ${library.ok}, ${http.ok}`,
      'server peak RSS, MB': http.peakRssMb,
      'CPU seconds per 1,000 reservations: server / database / load generator': cpuPer1000(http),
      ...yardstickFigures(httpRun, libraryRun.measured, yardsticks, target.mode),
      ...floorFigures(floors, floorOverHttp, groups, { library: libraryRun.measured, http: httpRun }),
    },
  };
}

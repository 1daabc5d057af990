/**
 * The floor of a reservation's rows (issue 18, "show why it cannot go lower"): what the database spends to write
 * the rows a reservation writes, and nothing else. One bare statement a group writes, for each reservation, its
 * reservations row, its line, the level's update and its ledger row, into the same tables with the same indexes
 * and the same triggers (the guards of the schema: alerts, announcements, the checks of the references and of
 * what is reservable); from two connections on levels of their own, so no lock is ever waited for. It plans
 * nothing, locks nothing first, checks no idempotency key and reads nothing back: what stockroom's database spends
 * above it, at the same group size, is the work of the engine's rules (docs/design.md), the rest is the rows'.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { timeOrderedUuid } from '../../src/services/time-ordered-ids.js';
import { round } from '../support/numbers.js';
import { cpuPerCall, overHttp, startProcess } from './yardsticks.js';
import type { ClusterCpu, Measured, YardstickOptions } from './yardsticks.js';

/** Connections writing at once, each on levels of its own: two, as the two cores this bench is measured on. */
const FLOOR_CONNECTIONS = 2;
/**
 * How long the floor's reservations hold their units: past the measurement, so the server's sweeper does not work
 * during it, and short enough that it has expired them all (through the ledger) before the next scenario starts.
 */
const FLOOR_HOLD_SECONDS = 45;

export const FLOOR_SQL = `
WITH req AS (
  SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS r(id, variant_id, warehouse_id)
), res AS (
  INSERT INTO reservations (id, order_ref, status, expires_at, created_at, updated_at, unique_order_ref)
  SELECT id, 'bench-floor-' || id, 'pending', now() + interval '${FLOOR_HOLD_SECONDS} seconds', now(), now(), true FROM req
), lines AS (
  INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty, backordered, holds_stock)
  SELECT id, 1, variant_id, warehouse_id, 1, 0, true FROM req
), upd AS (
  UPDATE stock_levels l SET reserved = l.reserved + 1, updated_at = now() FROM req r
   WHERE l.variant_id = r.variant_id AND l.warehouse_id = r.warehouse_id
  RETURNING l.variant_id, l.warehouse_id, l.on_hand, l.reserved, r.id
)
INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after,
                             reserved_after, actor, reservation_id)
SELECT variant_id, warehouse_id, 'reserve', 0, 1, on_hand, reserved, 'bench-floor', id FROM upd`;
/** Levels to write to, spread over the whole catalog, one a variant: enough that a group's are all different. */
const FLOOR_LEVELS = 50_000;

export interface Floor {
  group: number;
  reservations: number;
  perSecond: number;
  /** the database's CPU seconds */
  database: number;
}

interface Level {
  variant: string;
  warehouse: string;
}

/** One level of each of about FLOOR_LEVELS variants spread over the catalog, each the one with the most available. */
async function levelsToWrite(client: pg.Client, variants: number): Promise<Level[]> {
  const every = Math.max(1, Math.ceil(variants / FLOOR_LEVELS));
  const { rows } = await client.query<Level>(
    `SELECT DISTINCT ON (variant_id) variant_id AS variant, warehouse_id AS warehouse FROM stock_levels
      WHERE variant_id % $1 = 0 AND available >= 100 ORDER BY variant_id, available DESC`,
    [every],
  );
  return rows;
}

/** Groups of `group` reservations written for `seconds` from each connection, on its share of the levels. */
async function writeGroups(connections: pg.Client[], levels: Level[], group: number, seconds: number): Promise<number> {
  let written = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    connections.map(async (client, k) => {
      const mine = levels.filter((_, i) => i % connections.length === k);
      if (mine.length < group) throw new Error(`${String(mine.length)} levels to write to; a group needs ${group}`);
      while (Date.now() < until) {
        const picked = new Set<Level>();
        while (picked.size < group) picked.add(mine[Math.floor(Math.random() * mine.length)] as Level);
        const ids = [...picked].map(() => timeOrderedUuid());
        const { rowCount } = await client.query({
          name: 'bench-floor',
          text: FLOOR_SQL,
          values: [ids, [...picked].map((l) => l.variant), [...picked].map((l) => l.warehouse)],
        });
        if (rowCount !== group) throw new Error(`a floor group wrote ${String(rowCount)} ledger rows of ${group}`);
        written += group;
      }
    }),
  );
  return written;
}

/**
 * The floor at each group size, measured one after the other after a warm-up: the database's CPU per reservation
 * as the yardsticks count it (the cluster's processes only).
 */
export async function measureFloor(
  databaseUrl: string,
  database: ClusterCpu,
  options: { variants: number; groups: readonly number[]; seconds: number },
): Promise<Floor[]> {
  const connections = Array.from({ length: FLOOR_CONNECTIONS }, () => new pg.Client({ connectionString: databaseUrl }));
  try {
    await Promise.all(connections.map((client) => client.connect()));
    const [first] = connections;
    if (!first) return [];
    const levels = await levelsToWrite(first, options.variants);
    const floors: Floor[] = [];
    for (const group of options.groups) {
      await writeGroups(connections, levels, group, 1);
      const cpu = database.start();
      const started = process.hrtime.bigint();
      const reservations = await writeGroups(connections, levels, group, options.seconds);
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      floors.push({ group, reservations, perSecond: Math.round(reservations / elapsed), database: await cpu.end() });
    }
    return floors;
  } finally {
    await Promise.all(connections.map((client) => client.end()));
  }
}

/**
 * Lanes of the floor's server: groups written at once, each on a connection and levels of its own. Two, a lane a
 * core: measured with one to four on 10,000 variants (bench/README.md), two made the most reservations a second.
 */
const FLOOR_SERVER_LANES = 2;

/** The floor over HTTP: the least server that group-commits a reservation's rows, under the scenario's HTTP load. */
export interface FloorOverHttp {
  measured: Measured;
  /** its mean group, over the warm-up and the measured load */
  group: number;
}

/**
 * The floor over HTTP (bench/yardsticks/floor-server.mjs): Fastify and pg, the requests group-committed by the
 * floor's statement, every index and trigger of the schema on; driven by the scenario's HTTP load generator, as
 * stockroom and the other yardsticks are.
 */
export async function measureFloorOverHttp(
  databaseUrl: string,
  database: ClusterCpu,
  options: Pick<YardstickOptions, 'seconds' | 'httpLoad'>,
): Promise<FloorOverHttp> {
  const server = await startProcess('floor-server.mjs', {
    DATABASE_URL: databaseUrl,
    FLOOR_SQL,
    FLOOR_LANES: String(FLOOR_SERVER_LANES),
  });
  try {
    const measured = await overHttp(server, options, database);
    const stats = (await (await fetch(`${server.url}/groups`)).json()) as { groups: number; jobs: number };
    return { measured, group: round(stats.jobs / stats.groups, 1) };
  } finally {
    await server.stop();
  }
}

/** Waits until the server's sweeper has expired every reservation of the floor, so no later load meets them. */
export async function floorSweptAway(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const until = Date.now() + 300_000;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM reservations WHERE status = 'pending' AND order_ref LIKE 'bench-floor-%'",
      );
      if ((rows[0]?.n ?? 0) === 0) return;
      if (Date.now() > until)
        throw new Error(`${String(rows[0]?.n)} floor reservations are still pending after 5 minutes`);
      await sleep(2_000);
    }
  } finally {
    await client.end();
  }
}

/** The server's reserve groups so far, from its metrics: transactions, and the reservations in them. */
export async function serverGroups(server: { url: string }, key: string): Promise<{ groups: number; jobs: number }> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  const total = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { groups: total('stockroom_reserve_groups_total'), jobs: total('stockroom_reserve_grouped_total') };
}

/**
 * The floor's rows: the database's CPU per reservation writing only a reservation's rows at each load's group size,
 * and stockroom's against it (what the engine's rules cost above the rows they write); and the floor over HTTP,
 * with stockroom's figures over HTTP against its own.
 */
export function floorFigures(
  floors: readonly Floor[] | undefined,
  overHttp: FloorOverHttp | undefined,
  groups: { library: number; http: number },
  measured: { library: Measured; http: Measured },
): Record<string, number | string> {
  const figures: Record<string, number | string> = {
    'mean reserve group: library / HTTP': `${String(groups.library)} / ${String(groups.http)}`,
  };
  if (!floors) return figures;
  const msOf = (floor: Floor): number => round((1000 * floor.database) / floor.reservations, 3);
  for (const floor of floors)
    figures[
      `the floor: a reservation's rows alone, one bare statement a group of ${String(floor.group)}, per second / database CPU ms a reservation`
    ] = `${String(floor.perSecond)} / ${String(msOf(floor))}`;
  const against = (m: Measured, group: number): string => {
    const floor = floors.find((f) => f.group === group);
    if (!floor || m.cpu.database === undefined) return '-';
    return String(round(m.cpu.database / m.calls / (floor.database / floor.reservations)));
  };
  figures['database CPU per reservation, stockroom / the floor at its group size: library / HTTP'] =
    `${against(measured.library, groups.library)} / ${against(measured.http, groups.http)}`;
  if (!overHttp) return figures;
  const floor = overHttp.measured;
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? '-' : String(round(a / b));
  figures[
    `the floor over HTTP: Fastify + pg group-committing the rows alone (${String(FLOOR_SERVER_LANES)} lanes), per second / mean group`
  ] = `${String(floor.perSecond)} / ${String(overHttp.group)}`;
  figures['the floor over HTTP p50 / p99 ms'] = `${String(floor.p50Ms)} / ${String(floor.p99Ms)}`;
  figures['CPU per reservation, ms, server / database / load generator (machine): the floor over HTTP'] =
    cpuPerCall(floor);
  const http = measured.http;
  figures['stockroom over HTTP / the floor over HTTP: per second, server CPU, database CPU a reservation'] = [
    ratio(http.perSecond, floor.perSecond),
    ratio(perCall(http, http.cpu.server), perCall(floor, floor.cpu.server)),
    ratio(perCall(http, http.cpu.database), perCall(floor, floor.cpu.database)),
  ].join(', ');
  return figures;
}

const perCall = (m: Measured, seconds: number | undefined): number | undefined =>
  seconds === undefined ? undefined : seconds / m.calls;

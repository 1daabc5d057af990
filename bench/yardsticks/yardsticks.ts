/**
 * The yardsticks of issue 18, measured in the reserve scenario's run beside stockroom's own figures (PostgreSQL
 * mode only): the HTTP ceiling (Fastify answering 201 without a database), a hand-written Fastify + pg checkout
 * (one prepared statement per request, pool of 20) and pgbench running the same one-statement reservation. The
 * two servers run as processes of their own and are driven by the reserve scenario's own HTTP load generator.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../src/store/db.js';
import { PG_BIN } from '../../test/support/postgres-cluster.js';
import type { LoadResult } from '../support/load.js';
import { round } from '../support/numbers.js';
import type { CpuSplit } from '../support/process.js';
import type { Target } from '../support/target.js';

const TICKS_PER_SECOND = 100;

/** pgbench's clients and threads: as many connections as the HTTP load has */
const PGBENCH_CLIENTS = 64;
const PGBENCH_THREADS = 2;

/** The fields of /proc/<pid>/stat after the command name (which is in parentheses and may hold spaces). */
function statOf(pid: number | string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) of a process itself, and of its children it has waited for (exited, reaped). */
function cpuOf(fields: readonly string[]): { own: number; reaped: number } {
  const n = (i: number): number => Number(fields[i] ?? 0);
  return { own: (n(11) + n(12)) / TICKS_PER_SECOND, reaped: (n(13) + n(14)) / TICKS_PER_SECOND };
}

/** CPU seconds this process's exited children have used so far (a child that ran and ended: pgbench). */
const reapedChildrenCpu = (): number => cpuOf(statOf('self') ?? []).reaped;

interface ClusterReading {
  postmaster: number;
  backends: Map<string, number>;
}

function readCluster(postmaster: number): ClusterReading {
  const fields = statOf(postmaster) ?? [];
  const { own, reaped } = cpuOf(fields);
  const backends = new Map<string, number>();
  const parent = String(postmaster);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = statOf(pid);
    if (stat?.[1] === parent) backends.set(pid, cpuOf(stat).own);
  }
  return { postmaster: own + reaped, backends };
}

/**
 * CPU of one PostgreSQL cluster between two readings: its postmaster and every process it started, those that
 * exited in between too (their time is in the postmaster's reaped-children counters). Loads that close their
 * connections at the end (pgbench, the library's pool) are counted whole, and no other cluster on the machine is.
 */
export interface ClusterCpu {
  /** starts counting; `end` gives the database's CPU seconds since (after a pause, so closed backends are reaped) */
  start: () => { end: () => Promise<number> };
}

export function clusterCpu(postmaster: number): ClusterCpu {
  return {
    start: () => {
      const before = readCluster(postmaster);
      return {
        end: async () => {
          // a backend exits after its client has gone: give the postmaster time to reap it
          await sleep(300);
          const after = readCluster(postmaster);
          let sum = after.postmaster - before.postmaster;
          for (const [pid, cpu] of after.backends) sum += cpu - (before.backends.get(pid) ?? 0);
          // a backend that exited in between is in the postmaster's reaped time whole, its time before too
          for (const [pid, cpu] of before.backends) if (!after.backends.has(pid)) sum -= cpu;
          return sum;
        },
      };
    },
  };
}

/** The CPU counter of the target's PostgreSQL cluster; undefined embedded, where there is no cluster. */
export async function clusterOf(target: Target): Promise<ClusterCpu | undefined> {
  if (target.databaseUrl === undefined) return undefined;
  return clusterCpu(await target.straight({ announce: true, alerts: true }, postmasterOf));
}

/** The postmaster of the cluster `db` is connected to: the parent of its backend. */
async function postmasterOf(db: Db): Promise<number> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const ppid = Number(statOf(rows[0]?.pid ?? 0)?.[1]);
  if (!ppid) throw new Error('the database server is not on this machine: its CPU cannot be read');
  return ppid;
}

/** CPU seconds one way of reserving cost: a party is undefined where there is none. */
export interface CpuUse {
  /** the server process (stockroom, the ceiling, the checkout); undefined for the library and pgbench */
  server: number | undefined;
  /** the cluster's processes; undefined embedded, where the database is inside the server or the library */
  database: number | undefined;
  /** the load generator: the bench process (with the library in it for the library), or pgbench */
  client: number;
  machine: number;
}

export interface Measured {
  calls: number;
  /** calls that made a reservation (the ceiling's: answered 201) */
  ok: number;
  perSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  cpu: CpuUse;
}

/** A yardstick's server in a process of its own (plain ESM, run by node), which tells its port over IPC. */
export async function startProcess(
  file: string,
  env: Record<string, string>,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, file)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => {
      resolve((message as { port: number }).port);
    });
    void exited.then(() => {
      reject(new Error(`${file} exited before listening`));
    });
  });
  return {
    url: `http://127.0.0.1:${String(port)}`,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What the yardsticks need from the reserve scenario: its reservation SQL and its HTTP load generator. */
export interface YardstickOptions {
  seconds: number;
  /** the baseline's one-statement reservation ($1 sku, $2 qty, $3 reservation id, $4 order_ref) */
  reserveSql: string;
  /** the reserve scenario's HTTP load against a server (the same generator as stockroom's HTTP figures) */
  httpLoad: (
    server: { url: string; pid: number },
    load: { seconds: number },
  ) => Promise<LoadResult & { cpu: CpuSplit }>;
}

export interface Yardsticks {
  ceiling: Measured;
  checkout: Measured;
  pgbench: Measured;
}

/** Drives a yardstick server with the scenario's HTTP load: a warm-up, then the measured load. */
export async function overHttp(
  server: { url: string; pid: number },
  options: Pick<YardstickOptions, 'seconds' | 'httpLoad'>,
  database: ClusterCpu,
): Promise<Measured> {
  await options.httpLoad(server, { seconds: 2 });
  const db = database.start();
  const result = await options.httpLoad(server, { seconds: options.seconds });
  if (result.errors > 0)
    throw new Error(`${String(result.errors)} calls failed; the first: ${result.firstError ?? '?'}`);
  return {
    calls: result.calls,
    ok: result.ok,
    perSecond: result.perSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpu: {
      server: result.cpu.server,
      database: await db.end(),
      client: result.cpu.client,
      machine: result.cpu.machine,
    },
  };
}

/** /proc/stat: the whole machine's busy CPU seconds so far (as bench/support/process.ts counts them). */
function machineCpu(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0) / TICKS_PER_SECOND;
}

/**
 * The baseline's statement as a pgbench script: the SKU from `\set n random(...)` named as bench/seed.ts names
 * them, the reservation's id by gen_random_uuid() (one per transaction, materialized once) and a unique order_ref
 * made of it.
 */
export function pgbenchScript(reserveSql: string, variants: number): string {
  const sql = reserveSql
    .replace('WITH lvl AS (', 'WITH ids AS MATERIALIZED (SELECT gen_random_uuid() AS id), lvl AS (')
    .replaceAll('$1', "('BENCH-' || lpad(:n::text, 7, '0'))")
    .replaceAll('$2', '1')
    .replaceAll('$3', '(SELECT id FROM ids)')
    .replaceAll('$4', "('pgbench-' || (SELECT id FROM ids))")
    .replace("'bench-baseline'", "'bench-pgbench'");
  if (sql.includes('$') || !sql.includes('ids AS'))
    throw new Error('the reservation SQL is not what pgbenchScript expects');
  return `\\set n random(1, ${String(variants)})\n${sql.trim()};\n`;
}

/**
 * pgbench with the script above, 64 clients on 2 threads, against the bench's cluster as root may (a client). A
 * warm-up may process nothing (on a busy machine its 64 connections can take the whole second): no rate is asked of it.
 */
async function pgbench(
  url: string,
  script: string,
  seconds: number,
  warmUp = false,
): Promise<{ processed: number; tps: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-pgbench-'));
  const file = join(dir, 'reserve.sql');
  writeFileSync(file, script);
  const { hostname, port, pathname } = new URL(url);
  const args = ['-n', '-M', 'prepared', '-c', String(PGBENCH_CLIENTS), '-j', String(PGBENCH_THREADS)];
  args.push('-T', String(seconds), '-f', file, '-h', hostname, '-p', port, '-U', 'postgres', pathname.slice(1));
  try {
    const child = spawn(join(PG_BIN, 'pgbench'), args, {
      // a hand-written checkout has no change announcements: the same setting as the baseline's connections
      env: { ...process.env, PGOPTIONS: '-c stockroom.announce=off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1] ?? NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? 0);
    const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1] ?? NaN);
    if (code !== 0 || failed > 0 || !Number.isFinite(processed) || (!warmUp && !Number.isFinite(tps)))
      throw new Error(`pgbench failed (exit ${String(code)}):\n${output.slice(-2000)}`);
    return { processed, tps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgbenchLoad(
  target: Target & { databaseUrl: string },
  options: YardstickOptions,
  db: Db,
  database: ClusterCpu,
): Promise<Measured> {
  const script = pgbenchScript(options.reserveSql, target.variants);
  await pgbench(target.databaseUrl, script, 1, true);
  const { rows: before } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM stock_movements WHERE actor = 'bench-pgbench'",
  );
  const own = reapedChildrenCpu();
  const machine = machineCpu();
  const cluster = database.start();
  const { processed, tps } = await pgbench(target.databaseUrl, script, options.seconds);
  const client = reapedChildrenCpu() - own;
  const machineUsed = machineCpu() - machine;
  const cpu: CpuUse = { server: undefined, database: await cluster.end(), client, machine: machineUsed };
  const { rows: after } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM stock_movements WHERE actor = 'bench-pgbench'",
  );
  return { calls: processed, ok: (after[0]?.n ?? 0) - (before[0]?.n ?? 0), perSecond: Math.round(tps), cpu };
}

/**
 * The three yardsticks, one after the other: undefined where there is no PostgreSQL cluster (embedded mode). The
 * checkout and pgbench run as the baseline does: alert trigger off, change announcements off.
 */
export async function measureYardsticks(
  target: Target,
  database: ClusterCpu | undefined,
  options: YardstickOptions,
): Promise<Yardsticks | undefined> {
  const url = target.databaseUrl;
  if (url === undefined || database === undefined) return undefined;
  const withUrl = { ...target, databaseUrl: url };
  return target.straight({ announce: false, alerts: false }, async (db) => {
    const ceilingServer = await startProcess('ceiling-server.mjs', {});
    let ceiling: Measured;
    try {
      ceiling = await overHttp(ceilingServer, options, database);
    } finally {
      await ceilingServer.stop();
    }
    const settings = new URL(url);
    settings.searchParams.set('options', '-c stockroom.announce=off');
    settings.searchParams.set('application_name', 'bench-checkout');
    const checkoutServer = await startProcess('checkout-server.mjs', {
      DATABASE_URL: settings.toString(),
      CHECKOUT_SQL: `${options.reserveSql.replace("'bench-baseline'", "'bench-checkout'")}\nRETURNING warehouse_id, created_at`,
    });
    let checkout: Measured;
    try {
      checkout = await overHttp(checkoutServer, options, database);
    } finally {
      await checkoutServer.stop();
    }
    const pgbenchResult = await pgbenchLoad(withUrl, options, db, database);
    return { ceiling, checkout, pgbench: pgbenchResult };
  });
}

/** A load of the library in this process: the bench process's CPU is the library's and its load generator's. */
export async function measureLibrary<T extends LoadResult>(
  database: ClusterCpu | undefined,
  load: () => Promise<T>,
): Promise<{ result: T; measured: Measured }> {
  const own = process.cpuUsage();
  const machine = machineCpu();
  const cluster = database?.start();
  const result = await load();
  const client = process.cpuUsage(own);
  const machineUsed = machineCpu() - machine;
  return {
    result,
    measured: measuredOf(result, {
      server: undefined,
      database: await cluster?.end(),
      client: (client.user + client.system) / 1e6,
      machine: machineUsed,
    }),
  };
}

/** A load of stockroom's server over HTTP: its own CPU split, with the database's counted as for the yardsticks. */
export async function measureHttp<T extends LoadResult & { cpu: CpuSplit }>(
  database: ClusterCpu | undefined,
  load: () => Promise<T>,
): Promise<{ result: T; measured: Measured }> {
  const cluster = database?.start();
  const result = await load();
  const { server, client, machine } = result.cpu;
  return { result, measured: measuredOf(result, { server, database: await cluster?.end(), client, machine }) };
}

/** A load's figures with the CPU it took. */
function measuredOf(result: LoadResult, cpu: CpuUse): Measured {
  return { calls: result.calls, ok: result.ok, perSecond: result.perSecond, cpu };
}

/** CPU milliseconds per reservation: server / database / load generator, and the machine's (kernel included). */
export function cpuPerCall(m: Measured): string {
  const ms = (s: number | undefined): string => (s === undefined ? '-' : String(round((1000 * s) / m.calls, 3)));
  return `${ms(m.cpu.server)} / ${ms(m.cpu.database)} / ${ms(m.cpu.client)} (machine ${ms(m.cpu.machine)})`;
}

/** The reserve scenario's rows for the yardsticks and the ratios of issue 18, all from the same run. */
export function yardstickFigures(
  http: Measured,
  library: Measured,
  yardsticks: Yardsticks | undefined,
  mode: string,
): Record<string, number | string> {
  const figures: Record<string, number | string> = {
    'CPU per reservation, ms, server / database / load generator (machine): stockroom over HTTP': cpuPerCall(http),
    'CPU per reservation, ms, - / database / bench process with the library (machine): stockroom as a library':
      cpuPerCall(library),
  };
  if (!yardsticks)
    return {
      ...figures,
      'yardsticks (HTTP ceiling, hand-written checkout, pgbench)': `not measured in ${mode} mode (PostgreSQL mode only); the database's CPU is in the server's or the library's above`,
    };
  const { ceiling, checkout, pgbench: bench } = yardsticks;
  return {
    ...figures,
    'HTTP ceiling: the same load against Fastify answering 201, no database, per second': ceiling.perSecond,
    'HTTP ceiling p50 / p99 ms': `${String(ceiling.p50Ms)} / ${String(ceiling.p99Ms)}`,
    'CPU per call, ms, Fastify / database / load generator (machine): HTTP ceiling': cpuPerCall(ceiling),
    'hand-written checkout: Fastify + pg, one prepared statement per request, pool of 20, per second':
      checkout.perSecond,
    'hand-written checkout p50 / p99 ms': `${String(checkout.p50Ms)} / ${String(checkout.p99Ms)}`,
    'CPU per reservation, ms, checkout / database / load generator (machine): hand-written checkout':
      cpuPerCall(checkout),
    [`pgbench: the baseline's statement, prepared, ${String(PGBENCH_CLIENTS)} clients, transactions per second`]:
      bench.perSecond,
    'CPU per reservation, ms, - / database / pgbench (machine): pgbench': cpuPerCall(bench),
    'made of calls (ceiling: answered 201; checkout and pgbench: reservations)': [ceiling, checkout, bench]
      .map((m) => `${String(m.ok)} of ${String(m.calls)}`)
      .join(', '),
    'stockroom over HTTP / HTTP ceiling (issue 18: >= 0.25)': round(http.perSecond / ceiling.perSecond),
    'stockroom over HTTP / hand-written checkout (issue 18: >= 2.5)': round(http.perSecond / checkout.perSecond),
    'stockroom over HTTP / pgbench (issue 18: >= 0.75)': round(http.perSecond / bench.perSecond),
    'stockroom as a library, per second (issue 18: >= 15,000)': library.perSecond,
  };
}

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Pool } from 'undici';
import type { Db } from '../../src/store/db.js';
import { startServer } from '../../test/support/server-process.js';
import { benchSku } from '../seed.js';
import { drive, uniqueOrderRef } from '../support/load.js';
import type { LoadResult, Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import { cpuSplit } from '../support/process.js';
import type { CpuSplit } from '../support/process.js';
import type { ScenarioResult } from '../support/report.js';
import { SERVER_NODE_FLAGS } from '../support/target.js';
import type { Target } from '../support/target.js';
import { failIfErrors } from './reserve.js';

const CONNECTIONS = 64;

/** The bench cluster's URL, asked of the database the target opened (its superuser, on loopback, no password). */
async function databaseUrl(db: Db): Promise<string> {
  const { rows } = await db.query<{ user: string; port: number; database: string }>(
    'SELECT current_user AS user, inet_server_port() AS port, current_database() AS database',
  );
  const row = rows[0];
  if (!row) throw new Error('the bench database did not say where it is');
  return `postgres://${row.user}@127.0.0.1:${row.port}/${row.database}`;
}

/** The processes of a `stockroom serve`: the primary's workers (with --workers above 1), or the one process. */
function serverProcesses(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return [pid, ...children.map(Number)];
  } catch {
    return [pid];
  }
}

interface WorkersRun extends LoadResult {
  /** CPU seconds of each server process, the primary (or the one process) first */
  processes: number[];
  cpu: CpuSplit;
}

/** Random-SKU reservations over HTTP against a `stockroom serve --workers N` of its own on the bench database. */
async function reserveWith(target: Target, url: string, workers: number, seconds: number): Promise<WorkersRun> {
  // node's flags as the reserve scenario's server has them (workers inherit them)
  const server = await startServer(
    {
      DATABASE_URL: url,
      STOCKROOM_ADMIN_KEY: target.adminKey,
      STOCKROOM_WORKERS: String(workers),
      STOCKROOM_SWEEP_MS: '1000',
    },
    SERVER_NODE_FLAGS,
    0,
    'serve',
    // a file of its own: the target's server writes to its file meanwhile
    { logFile: join(dirname(target.logFile), 'workers.log') },
  );
  const client = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1 });
  const headers = { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' };
  const sku = (): string => benchSku(1 + Math.floor(Math.random() * target.variants));
  const reserve = async (): Promise<Outcome> => {
    const res = await client.request({
      method: 'POST',
      path: '/v1/reservations',
      headers,
      body: JSON.stringify({ order_ref: uniqueOrderRef('workers'), lines: [{ sku: sku(), qty: 1 }] }),
    });
    const text = await res.body.text();
    if (res.statusCode === 201) return 'ok';
    if (res.statusCode === 409) return 'refused';
    throw new Error(`${res.statusCode}: ${text}`);
  };
  try {
    // warm every worker's connections, caches and JIT before measuring
    await drive({ workers: CONNECTIONS, seconds: 2 }, reserve);
    const pids = serverProcesses(server.pid);
    const each = pids.map((pid) => cpuSplit(pid));
    const result = await drive({ workers: CONNECTIONS, seconds }, reserve);
    const splits = each.map((split) => split.end());
    const [first] = splits;
    if (!first) throw new Error('no server process to measure');
    return { ...result, processes: splits.map((split) => split.server), cpu: first };
  } finally {
    await client.close();
    await server.stop();
  }
}

/** CPU seconds per 1,000 reservations. */
const per1000 = (run: WorkersRun, seconds: number): number => round((1000 * seconds) / run.calls, 3);

/**
 * Reservations per second with `--workers 1` (one process) and `--workers 2` (a primary handing connections to two
 * workers), 64 connections each, on the bench database; where the CPU went per process says what more cores give.
 */
export async function workersScenario(target: Target): Promise<ScenarioResult> {
  const title = `Reservations with --workers 1 and --workers 2, ${CONNECTIONS} concurrent connections`;
  const db = 'db' in target ? (target.db as Db) : undefined;
  if (target.mode === 'embedded' || !db)
    return { name: 'workers', title, figures: { 'not run': 'the embedded database serves one process' } };
  const url = await databaseUrl(db);
  const seconds = target.quick ? 8 : 20;
  const one = await reserveWith(target, url, 1, seconds);
  const two = await reserveWith(target, url, 2, seconds);
  failIfErrors(one, two);
  const serverCpu = (run: WorkersRun): number => run.processes.reduce((sum, each) => sum + each, 0);
  return {
    name: 'workers',
    title,
    figures: {
      '--workers 1, per second': one.perSecond,
      '--workers 1 p50 / p99 ms': `${one.p50Ms} / ${one.p99Ms}`,
      '--workers 2, per second': two.perSecond,
      '--workers 2 p50 / p99 ms': `${two.p50Ms} / ${two.p99Ms}`,
      '--workers 2 / --workers 1': round(two.perSecond / one.perSecond),
      'CPU s per 1,000, --workers 1: server / database / load generator': [
        serverCpu(one),
        one.cpu.postgres,
        one.cpu.client,
      ]
        .map((cpu) => per1000(one, cpu))
        .join(' / '),
      'CPU s per 1,000, --workers 2: primary / worker 1 / worker 2': two.processes
        .map((cpu) => per1000(two, cpu))
        .join(' / '),
      'CPU s per 1,000, --workers 2: database / load generator': [two.cpu.postgres, two.cpu.client]
        .map((cpu) => per1000(two, cpu))
        .join(' / '),
      'machine CPU s per 1,000 (every core, kernel too), --workers 1 / 2': `${per1000(one, one.cpu.machine)} / ${per1000(two, two.cpu.machine)}`,
      'server share of the machine CPU, --workers 1 / 2': `${round(serverCpu(one) / one.cpu.machine)} / ${round(serverCpu(two) / two.cpu.machine)}`,
      // what one more core given to one more worker adds, while the database keeps up: the server's CPU per call
      'reservations per second one core of server CPU carries, --workers 1 / 2': `${Math.round(one.calls / serverCpu(one))} / ${Math.round(two.calls / serverCpu(two))}`,
      'reservations made (--workers 1, --workers 2)': `${one.ok}, ${two.ok}`,
    },
  };
}

import { spawn } from 'node:child_process';
import type { Db } from '../../src/store/db.js';
import { benchSku } from '../seed.js';
import { round } from '../support/numbers.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';
import { cpuPer1000, failIfErrors, httpLoad, machineCpuPer1000 } from './reserve.js';
import type { HttpLoadResult } from './reserve.js';

/** Pairs of loads, without and with events, one right after the other (the order alternates per pair). */
const PAIRS = 5;

/**
 * The receiver's program: answers every request 200 once its body is read, counts the events (a batch's too), and
 * tells the count when asked.
 */
const RECEIVER = `
  let received = 0;
  const server = require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += Number(req.headers['x-stockroom-batch-size'] ?? 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', () => process.send({ received }));
`;

/**
 * A webhook receiver in a process of its own, as an order system would be: on this machine's cores, but not in the
 * load generator's event loop, where every request it read would hold the load's next reservations back.
 */
async function receiver(): Promise<{ url: string; received: () => Promise<number>; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<Record<string, number>> =>
    new Promise((resolve) => {
      child.once('message', (message) => {
        resolve(message as Record<string, number>);
      });
    });
  const { port } = await next();
  return {
    url: `http://127.0.0.1:${String(port)}/events`,
    received: async () => {
      const answer = next();
      child.send('count');
      return (await answer)['received'] ?? 0;
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

async function admin(target: Target, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${target.server().url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.adminKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

type Mode = 'one per request' | 'batched';

/**
 * Reserve throughput with events for integrators on and off, measured in the same run: HTTP reservations of random
 * SKUs (as the reserve scenario) with no channel, then with a webhook subscribed to every stock and reservation
 * event, sent to a receiver on loopback while the load runs: once a webhook that takes one event per request (the
 * default), once one that takes them in batches (`"batch": true`). The channel is removed after each loaded run (its
 * backlog is cancelled), so the next run starts with nothing to send.
 */
export async function eventsScenario(target: Target): Promise<ScenarioResult> {
  const seconds = target.quick ? 6 : 15;
  const sku = (): string => benchSku(1 + Math.floor(Math.random() * target.variants));
  const hook = await receiver();
  // each mode's loads and the loads without events they are compared with, in pairs of their own
  const runs: Record<Mode, { without: HttpLoadResult[]; with: HttpLoadResult[] }> = {
    batched: { without: [], with: [] },
    'one per request': { without: [], with: [] },
  };
  const sent: Record<Mode, number> = { 'one per request': 0, batched: 0 };
  const loaded = async (mode: Mode): Promise<HttpLoadResult> => {
    const channel = await admin(target, 'POST', '/v1/webhooks', {
      url: hook.url,
      events: ['stock.*', 'reservation.*'],
      secret: 'bench-events-0123456789',
      ...(mode === 'batched' ? { batch: true } : {}),
    });
    const before = await hook.received();
    try {
      return await httpLoad(target, { seconds }, sku);
    } finally {
      sent[mode] += (await hook.received()) - before;
      await admin(target, 'DELETE', `/v1/webhooks/${String(channel['id'])}`);
    }
  };
  // Each load starts from a database at rest: the previous one's dead rows vacuumed and its pages written, so no
  // load pays for another's autovacuum or checkpoint (the database's CPU counts every PostgreSQL process, those too;
  // without this, a round's figures without events moved fourfold from one round to the next)
  const settle = async (): Promise<void> => {
    if (!('db' in target)) return;
    const db = (target as Target & { db: Db }).db;
    await db.exec('VACUUM ANALYZE');
    await db.exec('CHECKPOINT');
  };
  try {
    // warm for as long as a load: the first load without events after seeding a million variants ran at two thirds
    // of the rate of the ones after it (2026-11-27), on a cache that 2 s of warming had barely begun to fill
    await httpLoad(target, { seconds }, sku);
    // each mode in pairs of its own, one mode after the other: a run of the other mode in between (one per request
    // leaves a backlog behind, cancelled with its channel) would weigh on whichever run came next
    for (const mode of ['batched', 'one per request'] as const)
      for (let round = 0; round < PAIRS; round++) {
        // the order turns each round, so neither side always comes first
        for (const side of round % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
          await settle();
          runs[mode][side].push(side === 'without' ? await httpLoad(target, { seconds }, sku) : await loaded(mode));
        }
      }
  } finally {
    await hook.close();
  }
  failIfErrors(...Object.values(runs).flatMap((run) => [...run.without, ...run.with]));
  const figures: Record<string, string | number> = {};
  for (const mode of ['batched', 'one per request'] as const) {
    const { without, with: withEvents } = runs[mode];
    const ratios = withEvents.map((run, i) => run.perSecond / (without[i]?.perSecond ?? 1));
    const made = withEvents.reduce((sum, run) => sum + run.ok, 0);
    figures[`webhook ${mode}: without events, per second (each round)`] = without
      .map((run) => run.perSecond)
      .join(', ');
    figures[`webhook ${mode}: with events, per second (each round)`] = withEvents
      .map((run) => run.perSecond)
      .join(', ');
    figures[`webhook ${mode}: with / without, each round`] = ratios.map((ratio) => round(ratio)).join(', ');
    figures[`webhook ${mode}: with / without, median`] = round(median(ratios));
    figures[`webhook ${mode}: events received while loaded, per reservation made`] = round(
      sent[mode] / Math.max(made, 1),
    );
    figures[
      `webhook ${mode}: CPU seconds per 1,000 reservations, server / database / load generator, without (each round)`
    ] = without.map(cpuPer1000).join('; ');
    figures[
      `webhook ${mode}: CPU seconds per 1,000 reservations, server / database / load generator, with (each round)`
    ] = withEvents.map(cpuPer1000).join('; ');
    figures[`webhook ${mode}: whole machine's CPU seconds per 1,000 reservations, without / with (each round)`] =
      without
        .map((run, i) => `${machineCpuPer1000(run)} / ${withEvents[i] ? machineCpuPer1000(withEvents[i]) : '-'}`)
        .join('; ');
    figures[`webhook ${mode}: p99 ms without / with (median of rounds)`] =
      `${median(without.map((run) => run.p99Ms))} / ${median(withEvents.map((run) => run.p99Ms))}`;
  }
  return {
    name: 'events',
    title: `Reservations over HTTP with events for integrators off and on (per mode, ${PAIRS} pairs of ${seconds} s loads)`,
    figures,
  };
}

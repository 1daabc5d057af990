import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchSku } from '../seed.js';
import { round } from '../support/numbers.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';
import { cpuPer1000, failIfErrors, httpLoad } from './reserve.js';
import type { HttpLoadResult } from './reserve.js';

/** Pairs of loads, without and with events, one right after the other (the order alternates per pair). */
const PAIRS = 3;

/** A webhook receiver in the bench process: answers every event 200 at once and counts them. */
async function receiver(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
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

/**
 * Reserve throughput with events for integrators on and off, measured in the same run: HTTP reservations of random
 * SKUs (as the reserve scenario) with no channel, then with a webhook subscribed to every stock and reservation
 * event, sent to a receiver on loopback while the load runs. The channel is removed after each loaded run (its
 * backlog is cancelled), so the next run starts with nothing to send.
 */
export async function eventsScenario(target: Target): Promise<ScenarioResult> {
  const seconds = target.quick ? 6 : 15;
  const sku = (): string => benchSku(1 + Math.floor(Math.random() * target.variants));
  const hook = await receiver();
  const without: HttpLoadResult[] = [];
  const withEvents: HttpLoadResult[] = [];
  let sent = 0;
  const loaded = async (): Promise<HttpLoadResult> => {
    const channel = await admin(target, 'POST', '/v1/webhooks', {
      url: hook.url,
      events: ['stock.*', 'reservation.*'],
      secret: 'bench-events-0123456789',
    });
    const before = hook.received();
    try {
      return await httpLoad(target, { seconds }, sku);
    } finally {
      sent += hook.received() - before;
      await admin(target, 'DELETE', `/v1/webhooks/${String(channel['id'])}`);
    }
  };
  try {
    await httpLoad(target, { seconds: 2 }, sku); // warm
    for (let pair = 0; pair < PAIRS; pair++) {
      if (pair % 2 === 0) {
        without.push(await httpLoad(target, { seconds }, sku));
        withEvents.push(await loaded());
      } else {
        withEvents.push(await loaded());
        without.push(await httpLoad(target, { seconds }, sku));
      }
    }
  } finally {
    await hook.close();
  }
  failIfErrors(...without, ...withEvents);
  const ratios = withEvents.map((run, i) => run.perSecond / (without[i]?.perSecond ?? 1));
  const made = withEvents.reduce((sum, run) => sum + run.ok, 0);
  return {
    name: 'events',
    title: `Reservations over HTTP with events for integrators off and on (${PAIRS} back-to-back pairs of ${seconds} s)`,
    figures: {
      'without events, per second (each pair)': without.map((run) => run.perSecond).join(', '),
      'with a webhook on stock.* and reservation.*, per second (each pair)': withEvents
        .map((run) => run.perSecond)
        .join(', '),
      'with / without, each pair': ratios.map((ratio) => round(ratio)).join(', '),
      'with / without, median': round(median(ratios)),
      'spread of the pair ratios (max - min)': round(Math.max(...ratios) - Math.min(...ratios)),
      'events received while loaded, per reservation made': round(sent / Math.max(made, 1)),
      'CPU seconds per 1,000 reservations, server / database / load generator, without (each pair)': without
        .map(cpuPer1000)
        .join('; '),
      'CPU seconds per 1,000 reservations, server / database / load generator, with (each pair)': withEvents
        .map(cpuPer1000)
        .join('; '),
      'p99 ms without / with (median of pairs)': `${median(without.map((run) => run.p99Ms))} / ${median(withEvents.map((run) => run.p99Ms))}`,
    },
  };
}

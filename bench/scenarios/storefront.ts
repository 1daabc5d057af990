import { Client, Pool, request } from 'undici';
import { benchSku } from '../seed.js';
import { drive, uniqueOrderRef } from '../support/load.js';
import type { LoadResult, Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import { cpuSplit, sampleRss } from '../support/process.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';
import { cpuPer1000, failIfErrors } from './reserve.js';

const CONNECTIONS = 64;
const HOT_SKUS = 1000;

/** Storefront reads of one SKU each, from 64 connections, no key (as shoppers' pages ask). */
async function reads(
  target: Target,
  seconds: number,
  skuOf: () => string,
): Promise<LoadResult & { cpu: ReturnType<ReturnType<typeof cpuSplit>['end']> }> {
  const server = target.server();
  const pool = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1 });
  const cpu = cpuSplit(server.pid);
  try {
    const result = await drive({ workers: CONNECTIONS, seconds }, async (): Promise<Outcome> => {
      const res = await pool.request({ method: 'GET', path: `/v1/availability?sku=${skuOf()}` });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${text}`);
      return 'ok';
    });
    return { ...result, cpu: cpu.end() };
  } finally {
    await pool.close();
  }
}

/**
 * Shoppers' pages: availability reads per second with p50/p99, the cache warm (1,000 hot SKUs asked again and
 * again) and cold (a random SKU of the whole catalog each time, nearly all misses); then `streams` pages
 * holding a live stream of one SKU, and the time from a reservation until every one of them has its event.
 */
export async function storefrontScenario(target: Target): Promise<ScenarioResult> {
  const seconds = target.quick ? 5 : 10;
  const streams = target.mode === 'embedded' || target.quick ? 2_000 : 10_000;
  const hot = (): string => benchSku(1 + Math.floor(Math.random() * HOT_SKUS));
  const anySku = (): string => benchSku(1 + Math.floor(Math.random() * target.variants));
  await reads(target, 1, hot);
  const warm = await reads(target, seconds, hot);
  const cold = await reads(target, seconds, anySku);
  failIfErrors(warm, cold);

  const server = target.server();
  const sku = benchSku(target.variants);
  const rss = sampleRss(server.pid);
  const pages = Array.from({ length: streams }, () => new Client(server.url, { pipelining: 1, bodyTimeout: 0 }));
  let told = 0;
  let allTold: () => void = () => undefined;
  const everyoneTold = new Promise<void>((resolve) => (allTold = resolve));
  const opened: Promise<void>[] = [];
  try {
    for (const page of pages) {
      opened.push(
        new Promise<void>((resolve, reject) => {
          let events = 0;
          page
            .request({
              method: 'GET',
              path: `/v1/availability/stream?sku=${sku}`,
              headers: { accept: 'text/event-stream' },
            })
            .then(async (res) => {
              for await (const chunk of res.body as AsyncIterable<Buffer>) {
                for (
                  let i = chunk.indexOf('event: availability');
                  i !== -1;
                  i = chunk.indexOf('event: availability', i + 1)
                ) {
                  events++;
                  // the first event is the state on opening; the second is the change
                  if (events === 1) resolve();
                  if (events === 2 && ++told === streams) allTold();
                }
              }
            })
            .catch((error: unknown) => {
              reject(error instanceof Error ? error : new Error(String(error)));
            });
        }),
      );
    }
    await Promise.all(opened);
    const openRss = rss.peek();
    const started = performance.now();
    const r = await request(`${server.url}/v1/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ order_ref: uniqueOrderRef('storefront'), lines: [{ sku, qty: 1 }] }),
    });
    await r.body.text();
    await everyoneTold;
    const fanOutMs = performance.now() - started;
    const rate = (l: LoadResult): string =>
      `${l.perSecond.toLocaleString('en')}/s, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms`;
    return {
      name: 'storefront',
      title: `Storefront: availability reads (${CONNECTIONS} connections) and live streams`,
      figures: {
        'reads, cache warm (1,000 hot SKUs)': rate(warm),
        'reads, cache cold (a random SKU of the catalog)': rate(cold),
        'warm / cold': round(warm.perSecond / cold.perSecond),
        'CPU seconds per 1,000 warm reads: server / database / load generator': cpuPer1000(warm),
        'open streams on one SKU': streams,
        'a reservation until every stream has its event, ms': round(fanOutMs, 1),
        'server RSS with the streams open, MB': round(openRss, 1),
        'server peak RSS, MB': round(rss.end(), 1),
      },
    };
  } finally {
    await Promise.all(pages.map((p) => p.destroy()));
  }
}

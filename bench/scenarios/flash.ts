import { Client, request } from 'undici';
import { drive, uniqueOrderRef } from '../support/load.js';
import type { LoadResult, Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import { cpuSplit, sampleRss } from '../support/process.js';
import type { CpuSplit } from '../support/process.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';
import { baselineLoad, cpuPer1000, failIfErrors } from './reserve.js';

const UNITS = 1000;
const BUYERS = 5000;

async function call(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await request(`${target.server().url}${path}`, {
    method: method as 'GET' | 'POST',
    headers: { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: await res.body.json() };
}

/** A SKU of its own with UNITS units in one warehouse, made through the API. */
async function flashSku(target: Target, sku: string): Promise<void> {
  const made = await call(target, 'POST', '/v1/variants', { sku, product: { title: `Flash sale ${sku}` } });
  const received = await call(target, 'POST', '/v1/stock/receive', { sku, warehouse: 'AMS', qty: UNITS });
  if (made.status !== 201 || received.status !== 200)
    throw new Error(`could not stock ${sku}: ${JSON.stringify([made, received])}`);
}

/** What the server says of a SKU: sold (reserved) and how far past on-hand that is. */
async function soldOf(target: Target, sku: string): Promise<{ reserved: number; oversold: number }> {
  const { body } = await call(target, 'GET', `/v1/stock/${sku}`);
  const total = (body as { total: { on_hand: number; reserved: number } }).total;
  return { reserved: total.reserved, oversold: Math.max(0, total.reserved - total.on_hand) };
}

/** One sale of `sku` to BUYERS buyers, each on a connection of its own opened beforehand (as a browser's would be). */
async function sale(target: Target, sku: string): Promise<{ http: LoadResult; split: CpuSplit; peakRssMb: number }> {
  const server = target.server();
  const buyers = Array.from({ length: BUYERS }, () => new Client(server.url, { pipelining: 1 }));
  try {
    // every buyer's connection is open before the sale starts
    await Promise.all(buyers.map(async (b) => (await b.request({ method: 'GET', path: '/healthz' })).body.text()));
    const rss = sampleRss(server.pid);
    const cpu = cpuSplit(server.pid);
    const headers = { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' };
    const http = await drive({ workers: BUYERS, maxCalls: BUYERS }, async (n): Promise<Outcome> => {
      const buyer = buyers[n];
      if (!buyer) throw new Error(`no buyer ${n}`);
      const res = await buyer.request({
        method: 'POST',
        path: '/v1/reservations',
        headers,
        body: JSON.stringify({ order_ref: uniqueOrderRef('flash'), lines: [{ sku, qty: 1 }] }),
      });
      const text = await res.body.text();
      if (res.statusCode === 201) return 'ok';
      if (res.statusCode === 409) return 'refused';
      throw new Error(`${res.statusCode}: ${text}`);
    });
    const split = cpu.end();
    const peakRssMb = rss.end();
    failIfErrors(http);
    const sold = await soldOf(target, sku);
    if (http.ok !== UNITS || sold.reserved !== UNITS)
      throw new Error(`the sale of ${sku} sold ${http.ok} (${sold.reserved} reserved); ${UNITS} expected`);
    return { http, split, peakRssMb };
  } finally {
    await Promise.all(buyers.map((b) => b.close()));
  }
}

/**
 * A flash sale: one SKU with 1,000 units and 5,000 buyers who press "buy" at the same moment. Exactly 1,000 must
 * be sold. The sale measured is the server's second: the first (on a SKU of its own, reported apart) is when V8
 * re-optimizes the code paths a sale takes that a steady load does not (refusals, thousands of requests in flight
 * at once: about 200 deoptimizations, 2026-11-28), as the reservation load is measured after its warm-up. The
 * baseline sells another such SKU one transaction per reservation straight against the database; embedded, the
 * server is started again after it (the database serves one process), so there the first sale is also the new
 * process's first load of any kind.
 */
export async function flashScenario(target: Target): Promise<ScenarioResult> {
  const stamp = Date.now().toString(36).toUpperCase();
  const [first, hot, base] = [`FLASH-FIRST-${stamp}`, `FLASH-${stamp}`, `FLASH-BASE-${stamp}`];
  for (const sku of [first, hot, base]) await flashSku(target, sku);

  const baseline = await baselineLoad(target, { maxCalls: BUYERS }, () => base);
  failIfErrors(baseline);
  const baseSold = await soldOf(target, base);
  if (baseline.ok !== UNITS || baseSold.reserved !== UNITS)
    throw new Error(`the baseline sold ${baseline.ok} (${baseSold.reserved} reserved); ${UNITS} expected`);

  const firstSale = await sale(target, first);
  const { http, split, peakRssMb } = await sale(target, hot);
  const oversold = [await soldOf(target, first), await soldOf(target, hot), baseSold].reduce(
    (sum, sold) => sum + sold.oversold,
    0,
  );
  return {
    name: 'flash',
    title: `Flash sale: one SKU with ${UNITS.toLocaleString('en')} units, ${BUYERS.toLocaleString('en')} buyers at once`,
    figures: {
      'baseline: one transaction per reservation straight to the database (64 callers), per second': baseline.perSecond,
      "stockroom over HTTP, 5,000 connections, the server's second sale, answers per second": http.perSecond,
      'stockroom / baseline': round(http.perSecond / baseline.perSecond),
      'stockroom p50 / p99 ms': `${http.p50Ms} / ${http.p99Ms}`,
      'units sold (stockroom, baseline)': `${http.ok}, ${baseline.ok}`,
      'buyers refused (stockroom, baseline)': `${http.refused}, ${baseline.refused}`,
      'units oversold (all three sales)': oversold,
      'server peak RSS, MB': round(peakRssMb, 1),
      'CPU seconds per 1,000 answers: server / database / load generator': cpuPer1000({
        calls: http.calls,
        cpu: split,
      }),
      "the server's first sale (another SKU, the same load), answers per second": firstSale.http.perSecond,
      'first sale: CPU seconds per 1,000 answers: server / database / load generator': cpuPer1000({
        calls: firstSale.http.calls,
        cpu: firstSale.split,
      }),
    },
  };
}

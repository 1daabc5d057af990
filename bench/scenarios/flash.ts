import { Client, request } from 'undici';
import { drive, uniqueOrderRef } from '../support/load.js';
import type { Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import { cpuSplit, sampleRss } from '../support/process.js';
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
async function sold(target: Target, sku: string): Promise<{ reserved: number; oversold: number }> {
  const { body } = await call(target, 'GET', `/v1/stock/${sku}`);
  const total = (body as { total: { on_hand: number; reserved: number } }).total;
  return { reserved: total.reserved, oversold: Math.max(0, total.reserved - total.on_hand) };
}

/**
 * A flash sale: one SKU with 1,000 units and 5,000 buyers who press "buy" at the same moment, each on a
 * connection of their own (opened beforehand, as a browser's would be). Exactly 1,000 must be sold. The
 * baseline sells another such SKU one transaction per reservation straight against the database.
 */
export async function flashScenario(target: Target): Promise<ScenarioResult> {
  const stamp = Date.now().toString(36).toUpperCase();
  const [hot, base] = [`FLASH-${stamp}`, `FLASH-BASE-${stamp}`];
  await flashSku(target, hot);
  await flashSku(target, base);

  const baseline = await baselineLoad(target, { maxCalls: BUYERS }, () => base);
  failIfErrors(baseline);

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
        body: JSON.stringify({ order_ref: uniqueOrderRef('flash'), lines: [{ sku: hot, qty: 1 }] }),
      });
      const text = await res.body.text();
      if (res.statusCode === 201) return 'ok';
      if (res.statusCode === 409) return 'refused';
      throw new Error(`${res.statusCode}: ${text}`);
    });
    const split = cpu.end();
    const peak = rss.end();
    failIfErrors(http);
    const [hotSold, baseSold] = [await sold(target, hot), await sold(target, base)];
    if (http.ok !== UNITS || hotSold.reserved !== UNITS || baseline.ok !== UNITS || baseSold.reserved !== UNITS) {
      throw new Error(
        `flash sale sold ${http.ok} (${hotSold.reserved} reserved), baseline ${baseline.ok} (${baseSold.reserved}); ${UNITS} expected`,
      );
    }
    return {
      name: 'flash',
      title: `Flash sale: one SKU with ${UNITS.toLocaleString('en')} units, ${BUYERS.toLocaleString('en')} buyers at once`,
      figures: {
        'baseline: one transaction per reservation straight to the database (64 callers), per second':
          baseline.perSecond,
        'stockroom over HTTP, 5,000 connections, answers per second': http.perSecond,
        'stockroom / baseline': round(http.perSecond / baseline.perSecond),
        'stockroom p50 / p99 ms': `${http.p50Ms} / ${http.p99Ms}`,
        'units sold (stockroom, baseline)': `${http.ok}, ${baseline.ok}`,
        'buyers refused (stockroom, baseline)': `${http.refused}, ${baseline.refused}`,
        'units oversold': hotSold.oversold + baseSold.oversold,
        'server peak RSS, MB': round(peak, 1),
        'CPU seconds per 1,000 answers: server / database / load generator': cpuPer1000({
          calls: http.calls,
          cpu: split,
        }),
      },
    };
  } finally {
    await Promise.all(buyers.map((b) => b.close()));
  }
}

import { request } from 'undici';
import { applyMovements } from '../../src/store/levels.js';
import { refreshStockListOrder } from '../../src/store/stock-list.js';
import { WAREHOUSES, benchCategory, benchTag, benchSku } from '../seed.js';
import { percentile, round } from '../support/numbers.js';
import { memoryOf, sampleRss } from '../support/process.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';

/** One level in LOW_EVERY is taken down to 0-5 units (at or below the threshold of 5): low or out. */
const LOW_EVERY = 100;
const CHUNK = 5000;

/** The filtered pages an operator opens, each asked as a first page and as the page after it. */
const PAGES = (variants: number): [string, string][] => [
  ['low in a warehouse', `/v1/stock?warehouse=${WAREHOUSES[0].code}&status=low`],
  ['low stock now in a warehouse', `/v1/stock/low?warehouse=${WAREHOUSES[1].code}`],
  ['a warehouse by available', `/v1/stock?warehouse=${WAREHOUSES[0].code}&sort=available`],
  ['a category by on hand, descending', `/v1/stock?category=${benchCategory(3)}&sort=on_hand&order=desc`],
  ['a category leaf in a warehouse', `/v1/stock?category=${benchCategory(3, 2)}&warehouse=${WAREHOUSES[1].code}`],
  ['a tag and a status', `/v1/stock?tag=${benchTag(7)}&status=in_stock`],
  ['text in SKUs and titles', `/v1/stock?q=${benchSku(Math.floor(variants / 2)).slice(0, -2)}`],
  ['everything by SKU', '/v1/stock'],
];

/** Takes one level in LOW_EVERY down to a few units, through the ledger (adjustments), so reconcile still holds. */
async function makeSomeLow(target: Target): Promise<number> {
  return target.straight({ announce: false, alerts: false }, async (db) => {
    const { rows } = await db.query<{ variant_id: number; warehouse_id: number; on_hand: number }>(
      `SELECT l.variant_id, l.warehouse_id, l.on_hand FROM stock_levels l
        WHERE (l.variant_id * 7 + l.warehouse_id) % $1 = 0 AND l.on_hand > 5 ORDER BY 1, 2`,
      [LOW_EVERY],
    );
    for (let i = 0; i < rows.length; i += CHUNK) {
      await db.transaction((tx) =>
        applyMovements(
          tx,
          'bench-stock-list',
          rows.slice(i, i + CHUNK).map((row) => ({
            variantId: row.variant_id,
            warehouseId: row.warehouse_id,
            type: 'adjust',
            deltaOnHand: (row.variant_id % 6) - row.on_hand,
            deltaReserved: 0,
            guard: 'none',
            reason: 'correction',
          })),
        ),
      );
    }
    // made unannounced (a bulk load), so the server's refresher did not hear of them: the order is refreshed here
    await db.transaction((tx) => refreshStockListOrder(tx, 'all'));
    await db.exec('ANALYZE stock_levels, stock_list_order');
    return rows.length;
  });
}

/**
 * The admin console's stock list at the bench's catalog (1,000,000 variants in 2 warehouses in full mode): the
 * latency of filtered pages (first pages and the next page by cursor, one client, each filter asked again and
 * again), then CSV and Excel exports of one warehouse's levels with the server's peak RSS over the first half of
 * the rows and over all of them (memory that grew with the rows would show as a ratio near 2).
 */
export async function stockListScenario(target: Target): Promise<ScenarioResult> {
  const lowered = await makeSomeLow(target);
  const server = target.server();
  const headers = { authorization: `Bearer ${target.adminKey}` };
  const get = async (path: string): Promise<{ next_cursor: string | null; total: number }> => {
    const res = await request(`${server.url}${path}`, { headers });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${text}`);
    return JSON.parse(text) as { next_cursor: string | null; total: number };
  };
  const rounds = target.quick ? 20 : 100;
  const figures: Record<string, number | string> = { 'levels taken low or out': lowered };
  const all: number[] = [];
  for (const [name, path] of PAGES(target.variants)) {
    const times: number[] = [];
    await get(path); // a first read warms the connection and the statement
    for (let i = 0; i < rounds; i++) {
      let started = performance.now();
      const first = await get(path);
      times.push(performance.now() - started);
      if (first.next_cursor !== null) {
        started = performance.now();
        await get(`${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(first.next_cursor)}`);
        times.push(performance.now() - started);
      }
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    figures[`${name}: p50 / p99 ms`] = `${round(percentile(times, 50), 1)} / ${round(percentile(times, 99), 1)}`;
  }
  all.sort((a, b) => a - b);
  figures['every filtered page: p50 ms'] = round(percentile(all, 50), 1);
  figures['every filtered page: p99 ms'] = round(percentile(all, 99), 1);

  const rows = target.variants; // one warehouse's levels
  for (const extension of ['csv', 'xlsx'] as const) {
    const idle = memoryOf(server.pid).rssMb;
    const stop = sampleRss(server.pid);
    const started = performance.now();
    const res = await request(`${server.url}/v1/stock/export.${extension}?warehouse=${WAREHOUSES[0].code}`, {
      headers,
    });
    if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}: ${await res.body.text()}`);
    let bytes = 0;
    // the running peak at each chunk: the peak over the first half of the download is read from it at the end
    const peaks: [number, number][] = [];
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      peaks.push([performance.now() - started, stop.peek()]);
    }
    const elapsed = performance.now() - started;
    const seconds = elapsed / 1000;
    const peak = stop.end();
    const peakAtHalf = peaks.filter(([at]) => at <= elapsed / 2).at(-1)?.[1] ?? NaN;
    figures[`export .${extension}: rows`] = rows;
    figures[`export .${extension}: MB`] = round(bytes / 2 ** 20, 1);
    figures[`export .${extension}: rows per second`] = Math.round(rows / seconds);
    figures[`export .${extension}: server RSS at rest, MB`] = round(idle, 1);
    figures[`export .${extension}: server peak RSS over the first half of the time, MB`] = round(peakAtHalf, 1);
    figures[`export .${extension}: server peak RSS over all rows, MB`] = round(peak, 1);
    figures[`export .${extension}: peak over all / peak over first half`] = round(peak / peakAtHalf);
  }
  return {
    name: 'stock-list',
    title: 'Stock list: filtered pages (GET /v1/stock, /v1/stock/low) and exports of a warehouse (.csv, .xlsx)',
    figures,
  };
}

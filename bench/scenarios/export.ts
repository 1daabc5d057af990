import { request } from 'undici';
import { round } from '../support/numbers.js';
import { memoryOf, sampleRss } from '../support/process.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';

/**
 * The CSV export of every level streams in constant memory: the server's peak RSS over the whole export is
 * compared with its peak over the first half of the rows (the baseline). Memory that grew with the rows sent
 * would show as a ratio near 2; the server's RSS at rest and the size of the file are given for scale.
 */
export async function exportScenario(target: Target): Promise<ScenarioResult> {
  const server = target.server();
  const idle = memoryOf(server.pid).rssMb;
  const stop = sampleRss(server.pid);
  const started = performance.now();
  const res = await request(`${server.url}/v1/export/stock.csv`, {
    headers: { authorization: `Bearer ${target.adminKey}` },
  });
  if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}: ${await res.body.text()}`);
  const half = Math.floor(target.levels / 2);
  let bytes = 0;
  let rows = -1; // the header
  let peakAtHalf = NaN;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
    if (Number.isNaN(peakAtHalf) && rows >= half) peakAtHalf = stop.peek();
  }
  const seconds = (performance.now() - started) / 1000;
  const peak = stop.end();
  return {
    name: 'export',
    title: 'CSV export of every level, streamed (GET /v1/export/stock.csv)',
    figures: {
      rows,
      'MB sent': round(bytes / 2 ** 20, 1),
      seconds: round(seconds),
      'rows per second': Math.round(rows / seconds),
      'server RSS at rest, MB': round(idle, 1),
      'server peak RSS over the first half of the rows, MB (baseline)': round(peakAtHalf, 1),
      'server peak RSS over all rows, MB': round(peak, 1),
      'peak over all / peak over first half': round(peak / peakAtHalf),
    },
  };
}

import { Pool } from 'undici';
import { benchSku } from '../seed.js';
import { drive, uniqueOrderRef } from '../support/load.js';
import type { LoadResult, Outcome } from '../support/load.js';
import { round } from '../support/numbers.js';
import type { ScenarioResult } from '../support/report.js';
import type { Target } from '../support/target.js';
import { failIfErrors } from './reserve.js';

const CONNECTIONS = 64;

/**
 * An order's whole life over HTTP with 64 connections: reserve, then commit (payment), then fulfil (shipping)
 * of every order, each step measured on its own. All three are group-committed.
 */
export async function lifecycleScenario(target: Target): Promise<ScenarioResult> {
  const orders = target.quick ? 10_000 : 30_000;
  const client = new Pool(target.server().url, { connections: CONNECTIONS, pipelining: 1 });
  const headers = { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' };
  const ids: string[] = [];
  const post = async (path: string, body: unknown, keep?: (json: { id: string }) => void): Promise<Outcome> => {
    const res = await client.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode === 200 || res.statusCode === 201) {
      keep?.(JSON.parse(text) as { id: string });
      return 'ok';
    }
    throw new Error(`${path}: ${res.statusCode} ${text}`);
  };
  try {
    const reserve = await drive({ workers: CONNECTIONS, maxCalls: orders }, () =>
      post(
        '/v1/reservations',
        {
          order_ref: uniqueOrderRef('life'),
          lines: [{ sku: benchSku(1 + Math.floor(Math.random() * target.variants)), qty: 1 }],
        },
        (r) => ids.push(r.id),
      ),
    );
    const each = (action: string): Promise<LoadResult> =>
      drive({ workers: CONNECTIONS, maxCalls: ids.length }, (n) =>
        post(`/v1/reservations/${ids[n] ?? ''}/${action}`, {}),
      );
    const commit = await each('commit');
    const fulfil = await each('fulfil');
    failIfErrors(reserve, commit, fulfil);
    const rate = (r: LoadResult): string => `${r.perSecond.toLocaleString('en')} (p99 ${r.p99Ms} ms)`;
    return {
      name: 'lifecycle',
      title: `An order's life over HTTP: ${orders.toLocaleString('en')} orders reserved, committed, fulfilled (${CONNECTIONS} connections)`,
      figures: {
        'reserve per second': rate(reserve),
        'commit per second': rate(commit),
        'fulfil per second': rate(fulfil),
        'commit / reserve': round(commit.perSecond / reserve.perSecond),
        'fulfil / reserve': round(fulfil.perSecond / reserve.perSecond),
      },
    };
  } finally {
    await client.close();
  }
}

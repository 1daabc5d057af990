import { cpus, totalmem } from 'node:os';
import type { Stockroom } from '../../src/services/stockroom.js';
import type { ServerProcess } from '../../test/support/server-process.js';

/** What every scenario gets: the server process under test and a direct handle on its database. */
export interface BenchContext {
  quick: boolean;
  server: ServerProcess;
  adminKey: string;
  /** the server's database, for baselines that go straight to PostgreSQL */
  databaseUrl: string;
  /** the same database, opened by the bench itself (for baselines and reconcile) */
  stockroom: Stockroom;
  variants: number;
  /** stock levels: variants x warehouses */
  levels: number;
}

export interface ScenarioResult {
  name: string;
  title: string;
  figures: Record<string, number | string>;
}

export function report(results: ScenarioResult[], options: { quick: boolean }): { json: string; markdown: string } {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const json = JSON.stringify({ at: new Date().toISOString(), quick: options.quick, machine, results }, null, 2);
  const lines = [`# stockroom bench${options.quick ? ' (quick)' : ''}`, '', `${new Date().toISOString()} on ${machine}`, ''];
  for (const r of results) {
    lines.push(`## ${r.title}`, '', '| figure | value |', '| --- | --- |');
    for (const [k, v] of Object.entries(r.figures)) lines.push(`| ${k} | ${typeof v === 'number' ? v.toLocaleString('en') : v} |`);
    lines.push('');
  }
  return { json: `${json}\n`, markdown: lines.join('\n') };
}

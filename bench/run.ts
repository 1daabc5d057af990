/**
 * `npm run bench [-- --quick] [-- --only name,name]`: starts its own PostgreSQL cluster (durable settings, as
 * in production) and its own `stockroom serve` process, runs the scenarios, reconciles after each, and writes
 * bench/results/<date>.json and .md (and latest.*). Figures are reported against baselines measured in the
 * same run on the same machine, never as absolute pass/fail thresholds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Stockroom } from '../src/services/stockroom.js';
import { migrate } from '../src/store/migrate.js';
import type { Db } from '../src/store/db.js';
import { openPostgres } from '../src/store/postgres.js';
import { startPostgresCluster } from '../test/support/postgres-cluster.js';
import { startServer } from '../test/support/server-process.js';
import type { ServerProcess } from '../test/support/server-process.js';
import { exportScenario } from './scenarios/export.js';
import { reserveScenario } from './scenarios/reserve.js';
import { seedCatalog } from './seed.js';
import { round } from './support/numbers.js';
import { report } from './support/report.js';
import type { BenchContext, ScenarioResult } from './support/report.js';

const ADMIN_KEY = 'sr_bench_admin_0123456789abcdef';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  reserve: reserveScenario,
  export: exportScenario,
};

/** The statements the database spent the most time on over the whole run (pg_stat_statements). */
async function printTopStatements(db: Db): Promise<void> {
  const { rows } = await db.query<{ calls: number; total_ms: number; mean_ms: number; rows: number; query: string }>(
    `SELECT calls, round(total_exec_time + total_plan_time)::int AS total_ms,
            round(((total_exec_time + total_plan_time) / greatest(calls, 1))::numeric, 3)::float8 AS mean_ms, rows,
            regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`,
  );
  console.log('statements by total time, planning included (pg_stat_statements):');
  for (const r of rows) console.log(`${String(r.total_ms).padStart(8)} ms  ${String(r.calls).padStart(8)} calls  ${String(r.mean_ms).padStart(8)} ms each  ${r.query.slice(0, 160)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, profile: { type: 'boolean', default: false } } });
  const quick = values.quick;
  const only = values.only?.split(',') ?? Object.keys(SCENARIOS);
  const variants = quick ? 100_000 : 1_000_000;
  const results: ScenarioResult[] = [];

  console.log(`starting a PostgreSQL 15 cluster (fsync on, as in production) ...`);
  const cluster = await startPostgresCluster({
    max_connections: 300,
    shared_buffers: '1GB',
    max_wal_size: '4GB',
    // --profile: which statements the database spends its time on
    ...(values.profile ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.track_planning': 'on' } : {}),
  });
  let server: ServerProcess | undefined;
  try {
    const url = new URL(cluster.url);
    url.pathname = '/postgres';
    const db = await openPostgres(url.toString(), { max: 8 });
    await migrate(db);
    const s = new Stockroom({ db });
    console.log(`seeding ${variants.toLocaleString('en')} variants in 2 warehouses ...`);
    const seeded = await seedCatalog(s, db, variants, 1000);
    results.push({
      name: 'seed',
      title: `Seed ${variants.toLocaleString('en')} variants in 2 warehouses`,
      figures: { variants: seeded.variants, levels: seeded.levels, seconds: round(seeded.seconds), 'levels per second': Math.round(seeded.levels / seeded.seconds) },
    });
    const profileDir = join(import.meta.dirname, 'results', 'profiles');
    // --profile: the server writes a V8 CPU profile when it exits (open it in Chrome DevTools, or bench/profile.ts)
    const profiling = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    server = await startServer({ DATABASE_URL: url.toString(), STOCKROOM_ADMIN_KEY: ADMIN_KEY, STOCKROOM_SWEEP_MS: '1000' }, profiling);
    const ctx: BenchContext = { quick, server, adminKey: ADMIN_KEY, databaseUrl: url.toString(), stockroom: s, variants, levels: seeded.levels };
    for (const name of only) {
      const scenario = SCENARIOS[name];
      if (!scenario) throw new Error(`no scenario "${name}"; there are: ${Object.keys(SCENARIOS).join(', ')}`);
      console.log(`scenario ${name} ...`);
      if (values.profile) await db.exec('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()');
      const result = await scenario(ctx);
      if (values.profile) await printTopStatements(db);
      const check = await s.reconcile();
      result.figures['reconcile drift'] = check.drift.length + check.holds.length;
      console.log(`  ${JSON.stringify(result.figures)}`);
      results.push(result);
    }
    await s.close();
  } finally {
    if (server) await server.stop();
    cluster.stop();
  }
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const { json, markdown } = report(results, { quick });
  const stamp = new Date().toISOString().slice(0, 10);
  for (const name of [`${stamp}${quick ? '-quick' : ''}`, 'latest']) {
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(dir, `${name}.md`), markdown);
  }
  console.log(`\n${markdown}`);
}

await main();

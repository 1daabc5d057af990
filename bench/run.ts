/**
 * `npm run bench [-- --quick] [-- --only reserve,flash] [-- --mode postgres|embedded] [-- --profile]`: for each
 * mode, seeds a catalog, starts its own `stockroom serve` process on it, runs the scenarios, reconciles after
 * each, and writes bench/results/<date>.json and .md (and latest.*). PostgreSQL mode starts its own cluster
 * with production durability; embedded mode uses PGlite in a temp dir, as `npm run demo` does. Figures are
 * reported against baselines measured in the same run on the same machine, never as pass/fail thresholds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Db } from '../src/store/db.js';
import { eventsScenario } from './scenarios/events.js';
import { exportScenario } from './scenarios/export.js';
import { flashScenario } from './scenarios/flash.js';
import { lifecycleScenario } from './scenarios/lifecycle.js';
import { reserveScenario } from './scenarios/reserve.js';
import { stockListScenario } from './scenarios/stock-list.js';
import { storefrontScenario } from './scenarios/storefront.js';
import { workersScenario } from './scenarios/workers.js';
import { round } from './support/numbers.js';
import { report } from './support/report.js';
import type { ScenarioResult } from './support/report.js';
import { MODES, embeddedTarget, postgresTarget } from './support/target.js';
import type { Mode, Target, TargetOptions } from './support/target.js';

const SCENARIOS: Record<string, (target: Target) => Promise<ScenarioResult>> = {
  reserve: reserveScenario,
  lifecycle: lifecycleScenario,
  flash: flashScenario,
  storefront: storefrontScenario,
  export: exportScenario,
  events: eventsScenario,
  'stock-list': stockListScenario,
  workers: workersScenario,
};

/** An embedded database is one small shop's: its catalog is kept to a size PGlite seeds in a few seconds. */
const VARIANTS: Record<Mode, { quick: number; full: number }> = {
  postgres: { quick: 100_000, full: 1_000_000 },
  embedded: { quick: 20_000, full: 100_000 },
};

/** The statements the database spent the most time on during a scenario (pg_stat_statements). */
async function printTopStatements(db: Db): Promise<void> {
  const { rows } = await db.query<{ calls: number; total_ms: number; mean_ms: number; query: string }>(
    `SELECT calls, round(total_exec_time + total_plan_time)::int AS total_ms,
            round(((total_exec_time + total_plan_time) / greatest(calls, 1))::numeric, 3)::float8 AS mean_ms,
            regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`,
  );
  console.log('statements by total time, planning included (pg_stat_statements):');
  for (const r of rows)
    console.log(
      `${String(r.total_ms).padStart(8)} ms  ${String(r.calls).padStart(8)} calls  ${String(r.mean_ms).padStart(8)} ms each  ${r.query.slice(0, 160)}`,
    );
}

async function runMode(
  mode: Mode,
  only: readonly string[],
  options: TargetOptions,
  profile: boolean,
): Promise<ScenarioResult[]> {
  const what =
    mode === 'postgres' ? 'a PostgreSQL 15 cluster (fsync on, as in production)' : 'the embedded database (PGlite)';
  console.log(`[${mode}] seeding ${options.variants.toLocaleString('en')} variants in 2 warehouses on ${what} ...`);
  const target = mode === 'postgres' ? await postgresTarget(options) : await embeddedTarget(options);
  const results: ScenarioResult[] = [];
  try {
    const { seconds, settleSeconds, levels, variants } = target.seeded;
    results.push({
      name: `${mode}/seed`,
      title: `[${mode}] Seed ${variants.toLocaleString('en')} variants in 2 warehouses`,
      figures: {
        variants,
        levels,
        seconds: round(seconds),
        'levels per second': Math.round(levels / seconds),
        'then VACUUM ANALYZE and CHECKPOINT, seconds': round(settleSeconds),
      },
    });
    for (const name of only) {
      const scenario = SCENARIOS[name] ?? (() => Promise.reject(new Error(`no scenario "${name}"`)));
      console.log(`[${mode}] scenario ${name} ...`);
      const pg = 'db' in target && profile ? (target.db as Db) : undefined;
      await pg?.exec('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()');
      const result = await scenario(target);
      if (pg) await printTopStatements(pg);
      const check = await target.withDb((s) => s.reconcile());
      result.figures['reconcile drift'] = check.drift.length + check.holds.length;
      if (check.drift.length + check.holds.length > 0)
        console.error(`[${mode}] ${name}: the ledger does not reconcile: ${JSON.stringify(check).slice(0, 2000)}`);
      console.log(`  ${JSON.stringify(result.figures)}`);
      results.push({ ...result, name: `${mode}/${result.name}`, title: `[${mode}] ${result.title}` });
    }
  } finally {
    await target.close();
  }
  return results;
}

const USAGE = `usage: npm run bench -- [--quick] [--only SCENARIO,...] [--mode MODE,...] [--profile] [--help]
scenarios: ${Object.keys(SCENARIOS).join(', ')}
modes: ${MODES.join(', ')}`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        mode: { type: 'string' },
        profile: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quick = values.quick;
  const only = values.only?.split(',') ?? Object.keys(SCENARIOS);
  const unknown = only.filter((n) => !(n in SCENARIOS));
  const modes = (values.mode?.split(',') ?? [...MODES]) as Mode[];
  const badMode = modes.filter((m) => !MODES.includes(m));
  if (unknown.length > 0 || badMode.length > 0) {
    console.error(
      `unknown ${unknown.length > 0 ? `scenario ${unknown.join(', ')}` : `mode ${badMode.join(', ')}`}\n${USAGE}`,
    );
    process.exit(2);
  }
  const profileDir = join(import.meta.dirname, 'results', 'profiles');
  const results: ScenarioResult[] = [];
  for (const mode of modes) {
    const options: TargetOptions = {
      quick,
      variants: VARIANTS[mode][quick ? 'quick' : 'full'],
      // --profile: the server writes a V8 CPU profile when it exits (bench/profile.ts summarises it), and
      // PostgreSQL counts what each statement cost
      nodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      postgresSettings: values.profile
        ? {
            shared_preload_libraries: 'pg_stat_statements',
            'pg_stat_statements.track': 'all',
            'pg_stat_statements.track_planning': 'on',
          }
        : {},
    };
    results.push(...(await runMode(mode, only, options, values.profile)));
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

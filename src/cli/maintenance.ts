import type { Command } from 'commander';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { demoBanner, seedDemo } from './demo.js';
import { countUpTo, envFlag, envInt, hostOption, intOption, portOption } from './args.js';
import { replicaSettingsFromEnv } from './replicas.js';
import { redisUrlFromEnv } from './redis-settings.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, DEFAULT_STATISTICS_EVERY_MS, serveLimits } from './serve-limits.js';
import { EXIT } from './exit-codes.js';
import { table } from './output.js';
import { DEFAULT_WORK_STATUS_TIMEOUT_MS } from '../infra/metrics.js';
import { DEFAULT_ORDER_MAX_SKUS, DEFAULT_ORDER_WAIT_MS } from '../services/stock-list.js';
import { DEFAULT_IDEMPOTENCY_RETENTION_HOURS, MAX_IDEMPOTENCY_RETENTION_HOURS } from '../services/idempotency.js';

// the longest a setting in seconds, hours or days takes: past these, a time computed from it falls off the
// calendar a date holds, or a timer fires at once
const YEAR_SECONDS = 31_536_000;
const CENTURY_HOURS = MAX_IDEMPOTENCY_RETENTION_HOURS;
const CENTURY_DAYS = 36_500;

/** The names the demo gives the keys it creates (`demo <time>`, `demo storefront <time>`), and only those. */
const DEMO_KEY_NAME = /^demo (storefront )?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The commands that run the engine rather than its data: migrate, expire, reconcile, serve and demo. */
export function registerMaintenance(program: Command, ctx: () => CommandContext): void {
  program
    .command('migrate')
    .description('apply pending schema migrations')
    .action(async () => {
      const context = ctx();
      const applied = await withStockroom(context.env, (stockroom) => stockroom.migrate(), { migrate: false });
      context.print({ applied }, applied.length > 0 ? `applied ${applied.join(', ')}` : 'schema is up to date');
    });

  program
    .command('expire')
    .description('run the sweeper once: release pending reservations past their deadline')
    .action(async () => {
      const context = ctx();
      const expired = await withStockroom(context.env, (stockroom) => stockroom.reservations.expireDue());
      context.print({ expired }, `expired ${expired} reservation${expired === 1 ? '' : 's'}`);
    });

  program
    .command('forget-idempotency-keys')
    .description(
      'forget idempotency keys older than the retention (serve does this every ten minutes); a request sent again with a forgotten key is a new one',
    )
    .option(
      '--older-than-hours <hours>',
      `forget keys older than this (default: STOCKROOM_IDEMPOTENCY_RETENTION_HOURS, else ${DEFAULT_IDEMPOTENCY_RETENTION_HOURS})`,
      countUpTo(CENTURY_HOURS),
    )
    .action(async (options: { olderThanHours?: number }) => {
      const context = ctx();
      const hours = options.olderThanHours ?? retentionHoursFromEnv(context.env);
      const forgotten = await withStockroom(context.env, (stockroom) =>
        stockroom.forgetIdempotencyKeys(hours * 3_600_000),
      );
      context.print(
        { forgotten, older_than_hours: hours },
        `forgot ${forgotten} idempotency key${forgotten === 1 ? '' : 's'} older than ${hours} hour${hours === 1 ? '' : 's'}`,
      );
    });

  program
    .command('analyze')
    .description(
      'analyze the tables grown to twice the size the database last measured, so their statements are planned for the size they have (serve does this every ten seconds)',
    )
    .action(async () => {
      const context = ctx();
      const tables = await withStockroom(context.env, (stockroom) => stockroom.refreshStatistics({ wait: true }));
      context.print(
        { analyzed: tables },
        tables.length > 0 ? `analyzed ${tables.join(', ')}` : 'no table has grown to twice its measured size',
      );
    });

  program
    .command('reconcile')
    .description('replay the ledger and prove every level equals the sum of its movements (exit 1 on drift)')
    .action(async () => {
      const context = ctx();
      const report = await withStockroom(context.env, (stockroom) => stockroom.reconcile());
      context.print(report, () => {
        if (report.clean)
          return `clean: ${report.levels} levels match ${report.movements} ledger rows and the open reservations`;
        const drift = report.drift.length
          ? `levels that differ from their ledger:\n${table(
              ['SKU', 'WAREHOUSE', 'ON HAND', 'LEDGER', 'RESERVED', 'LEDGER'],
              report.drift.map((level) => [
                level.sku,
                level.warehouse,
                level.on_hand,
                level.ledger_on_hand,
                level.reserved,
                level.ledger_reserved,
              ]),
            )}`
          : '';
        const holds = report.holds.length
          ? `levels whose reserved differs from their open reservations:\n${table(
              ['SKU', 'WAREHOUSE', 'RESERVED', 'HELD'],
              report.holds.map((level) => [level.sku, level.warehouse, level.reserved, level.held]),
            )}`
          : '';
        const states = report.states.length
          ? `levels whose damaged or quality control differs from their ledger:\n${table(
              ['SKU', 'WAREHOUSE', 'DAMAGED', 'LEDGER', 'QC', 'LEDGER'],
              report.states.map((level) => [
                level.sku,
                level.warehouse,
                level.damaged,
                level.ledger_damaged,
                level.quality_control,
                level.ledger_quality_control,
              ]),
            )}`
          : '';
        const costs = report.costs.length
          ? `levels whose value differs from their costed ledger rows:\n${table(
              ['SKU', 'WAREHOUSE', 'VALUE', 'LEDGER', 'BROKEN ROWS'],
              report.costs.map((level) => [
                level.sku,
                level.warehouse,
                level.value,
                level.ledger_value,
                level.broken_rows,
              ]),
            )}`
          : '';
        return [drift, holds, states, costs].filter(Boolean).join('\n');
      });
      if (!report.clean) context.exit(EXIT.refused);
    });

  const serveOptions = (flags: { port: number; host: string }, context: CommandContext) => {
    const heartbeatMs = envInt(context.env, 'STOCKROOM_SSE_HEARTBEAT_MS', 15_000, 1);
    return {
      port: flags.port,
      host: flags.host,
      sweepEveryMs: envInt(context.env, 'STOCKROOM_SWEEP_MS', 5000, 1),
      cacheTtlSeconds: envInt(context.env, 'STOCKROOM_CACHE_TTL', 60, 0, YEAR_SECONDS),
      stockOrder: {
        maxSkus: envInt(context.env, 'STOCKROOM_STOCK_ORDER_MAX_SKUS', DEFAULT_ORDER_MAX_SKUS, 0),
        waitMs: envInt(context.env, 'STOCKROOM_STOCK_ORDER_WAIT_MS', DEFAULT_ORDER_WAIT_MS, 1),
      },
      heartbeatMs,
      limits: serveLimits(context.env, heartbeatMs),
      shutdownGraceMs: envInt(context.env, 'STOCKROOM_SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, 0),
      redisUrl: redisUrlFromEnv(context.env),
      logger: { level: context.env.LOG_LEVEL ?? 'info' },
      adminKey: context.env.STOCKROOM_ADMIN_KEY,
      metricsPublic: envFlag(context.env, 'STOCKROOM_METRICS_PUBLIC') ?? false,
      metricsReadTimeoutMs: envInt(context.env, 'STOCKROOM_METRICS_READ_TIMEOUT_MS', DEFAULT_WORK_STATUS_TIMEOUT_MS, 1),
      replenishEveryHours: envInt(context.env, 'STOCKROOM_REPLENISH_EVERY_HOURS', 24, 0, CENTURY_HOURS),
      idempotencyRetentionHours: retentionHoursFromEnv(context.env),
      statisticsEveryMs: envInt(context.env, 'STOCKROOM_STATISTICS_EVERY_MS', DEFAULT_STATISTICS_EVERY_MS, 0),
      delivery: {
        maxAttempts: envInt(context.env, 'STOCKROOM_DELIVERY_MAX_ATTEMPTS', 10, 1),
        backoffMs: envInt(context.env, 'STOCKROOM_DELIVERY_BACKOFF_MS', 30_000, 1),
        timeoutMs: envInt(context.env, 'STOCKROOM_DELIVERY_TIMEOUT_MS', 10_000, 1),
        concurrency: envInt(context.env, 'STOCKROOM_DELIVERY_CONCURRENCY', 16, 1),
        gatherMs: envInt(context.env, 'STOCKROOM_DELIVERY_GATHER_MS', 250, 0),
        retentionMs: envInt(context.env, 'STOCKROOM_DELIVERY_RETENTION_DAYS', 30, 0, CENTURY_DAYS) * 86_400_000,
        secretKey: context.env.STOCKROOM_SECRET_KEY || undefined,
      },
    };
  };

  program
    .command('serve')
    .description('serve the HTTP API until SIGTERM/SIGINT (the sweeper runs inside)')
    .option('--port <n>', 'port to listen on', portOption, 8080)
    .option('--host <address>', 'address to listen on', hostOption, '127.0.0.1')
    .option(
      '--workers <n>',
      'server processes on the port (default: one per core; 1 on the embedded database)',
      intOption,
    )
    .action(async (flags: { port: number; host: string; workers?: number }) => {
      const context = ctx();
      // settings are checked before the database is opened (and before any worker is started)
      const options = serveOptions(flags, context);
      replicaSettingsFromEnv(context.env);
      const workers = {
        workers: flags.workers,
        restartBackoffMs: envInt(context.env, 'STOCKROOM_WORKER_RESTART_MS', 1000, 1),
        restartBackoffCapMs: envInt(context.env, 'STOCKROOM_WORKER_RESTART_MAX_MS', 30_000, 1),
      };
      // the server's modules (Fastify and what it serves with) load here, not on every command's start
      const { serveProcesses } = await import('./serve.js');
      context.exit(await serveProcesses(context.env, options, workers, context.io));
    });

  program
    .command('demo')
    .description('seed a demo shop (once), create an admin key and serve the API')
    .option('--port <n>', 'port to listen on', portOption, 8080)
    .option('--host <address>', 'address to listen on', hostOption, '127.0.0.1')
    .option('--no-serve', 'seed only')
    .action(async (flags: { port: number; host: string; serve: boolean }) => {
      const context = ctx();
      // the server's settings are checked before the database is opened, and only when it will serve
      const options = flags.serve ? serveOptions(flags, context) : undefined;
      const { serveUntilStopped } = await import('./serve.js');
      await withStockroom(context.env, async (stockroom) => {
        const seeded = await seedDemo(stockroom);
        if (options === undefined) {
          context.print(seeded, `${seeded.summary}\n\n${seeded.hints}`);
          return;
        }
        // the keys an earlier demo printed stop working: each run leaves its own two keys live, not two more
        for (const earlier of await stockroom.keys.list())
          if (earlier.revoked_at === null && DEMO_KEY_NAME.test(earlier.name)) await stockroom.keys.revoke(earlier.id);
        const { key } = await stockroom.keys.create({ name: `demo ${new Date().toISOString()}`, scopes: ['admin'] });
        // the demo storefront's "Add to cart" reserves with this one (checkout only), written into that page
        const checkout = await stockroom.keys.create({
          name: `demo storefront ${new Date().toISOString()}`,
          scopes: ['checkout'],
        });
        await serveUntilStopped(
          stockroom,
          {
            ...options,
            storefrontCheckoutKey: checkout.key,
            logger: { level: context.env.LOG_LEVEL ?? 'warn' },
            banner: (url) => demoBanner(url, key, seeded.summary),
          },
          context.io,
        );
      });
    });
}

/** STOCKROOM_IDEMPOTENCY_RETENTION_HOURS, checked before anything starts (a century at most). */
function retentionHoursFromEnv(env: NodeJS.ProcessEnv): number {
  return envInt(env, 'STOCKROOM_IDEMPOTENCY_RETENTION_HOURS', DEFAULT_IDEMPOTENCY_RETENTION_HOURS, 0, CENTURY_HOURS);
}

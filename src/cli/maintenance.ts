import type { Command } from 'commander';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { demoBanner, seedDemo } from './demo.js';
import { envFlag, envInt, portOption } from './args.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, serveUntilStopped } from './serve.js';
import { serveLimits } from './serve-limits.js';
import { EXIT } from './exit-codes.js';
import { table } from './output.js';

export function registerMaintenance(program: Command, ctx: () => CommandContext): void {
  program
    .command('migrate')
    .description('apply pending schema migrations')
    .action(async () => {
      const c = ctx();
      const applied = await withStockroom(c.env, (s) => s.migrate(), { migrate: false });
      c.print({ applied }, applied.length > 0 ? `applied ${applied.join(', ')}` : 'schema is up to date');
    });

  program
    .command('expire')
    .description('run the sweeper once: release pending reservations past their deadline')
    .action(async () => {
      const c = ctx();
      const expired = await withStockroom(c.env, (s) => s.reservations.expireDue());
      c.print({ expired }, `expired ${expired} reservation${expired === 1 ? '' : 's'}`);
    });

  program
    .command('reconcile')
    .description('replay the ledger and prove every level equals the sum of its movements (exit 1 on drift)')
    .action(async () => {
      const c = ctx();
      const report = await withStockroom(c.env, (s) => s.reconcile());
      c.print(report, () => {
        if (report.clean)
          return `clean: ${report.levels} levels match ${report.movements} ledger rows and the open reservations`;
        const drift = report.drift.length
          ? `levels that differ from their ledger:\n${table(
              ['SKU', 'WAREHOUSE', 'ON HAND', 'LEDGER', 'RESERVED', 'LEDGER'],
              report.drift.map((d) => [d.sku, d.warehouse, d.on_hand, d.ledger_on_hand, d.reserved, d.ledger_reserved]),
            )}`
          : '';
        const holds = report.holds.length
          ? `levels whose reserved differs from their open reservations:\n${table(
              ['SKU', 'WAREHOUSE', 'RESERVED', 'HELD'],
              report.holds.map((h) => [h.sku, h.warehouse, h.reserved, h.held]),
            )}`
          : '';
        return [drift, holds].filter(Boolean).join('\n');
      });
      if (!report.clean) c.exit(EXIT.refused);
    });

  const serveOptions = (o: { port: number; host: string }, c: CommandContext) => {
    const heartbeatMs = envInt(c.env, 'STOCKROOM_SSE_HEARTBEAT_MS', 15_000, 1);
    return {
      port: o.port,
      host: o.host,
      sweepEveryMs: envInt(c.env, 'STOCKROOM_SWEEP_MS', 5000, 1),
      cacheTtlSeconds: envInt(c.env, 'STOCKROOM_CACHE_TTL', 60, 0),
      heartbeatMs,
      limits: serveLimits(c.env, heartbeatMs),
      shutdownGraceMs: envInt(c.env, 'STOCKROOM_SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, 0),
      redisUrl: c.env.REDIS_URL || undefined,
      logger: { level: c.env.LOG_LEVEL ?? 'info' },
      adminKey: c.env.STOCKROOM_ADMIN_KEY,
      metricsPublic: envFlag(c.env, 'STOCKROOM_METRICS_PUBLIC') ?? false,
      replenishEveryHours: envInt(c.env, 'STOCKROOM_REPLENISH_EVERY_HOURS', 24, 0),
      delivery: {
        maxAttempts: envInt(c.env, 'STOCKROOM_DELIVERY_MAX_ATTEMPTS', 10, 1),
        backoffMs: envInt(c.env, 'STOCKROOM_DELIVERY_BACKOFF_MS', 30_000, 1),
        timeoutMs: envInt(c.env, 'STOCKROOM_DELIVERY_TIMEOUT_MS', 10_000, 1),
        retentionMs: envInt(c.env, 'STOCKROOM_DELIVERY_RETENTION_DAYS', 30, 0) * 86_400_000,
        secretKey: c.env.STOCKROOM_SECRET_KEY || undefined,
      },
    };
  };

  program
    .command('serve')
    .description('serve the HTTP API until SIGTERM/SIGINT (the sweeper runs inside)')
    .option('--port <n>', 'port to listen on', portOption, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      const c = ctx();
      // settings are checked before the database is opened
      const options = serveOptions(o, c);
      await withStockroom(c.env, (s) => serveUntilStopped(s, options, c.io));
    });

  program
    .command('demo')
    .description('seed a demo shop (once), create an admin key and serve the API')
    .option('--port <n>', 'port to listen on', portOption, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--no-serve', 'seed only')
    .action(async (o: { port: number; host: string; serve: boolean }) => {
      const c = ctx();
      const options = serveOptions(o, c);
      await withStockroom(c.env, async (s) => {
        const seeded = await seedDemo(s);
        if (!o.serve) {
          c.print(seeded, `${seeded.summary}\n\n${seeded.hints}`);
          return;
        }
        const { key } = await s.keys.create({ name: `demo ${new Date().toISOString()}`, scopes: ['admin'] });
        await serveUntilStopped(
          s,
          {
            ...options,
            logger: { level: c.env.LOG_LEVEL ?? 'warn' },
            banner: (url) => demoBanner(url, key, seeded.summary),
          },
          c.io,
        );
      });
    });
}

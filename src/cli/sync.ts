import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';

/** "30s", "5m", "1h" in milliseconds. */
export function duration(text: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(text.trim());
  if (!m) throw ValidationError.field('/every', `"${text}" is not a duration such as 30s, 5m or 1h`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

export function registerSync(program: Command, ctx: () => CommandContext): void {
  const sync = program.command('sync').description('external warehouse systems');
  sync
    .command('source <name>')
    .description('register a source; with --secret its pushed batches must be signed (X-Stockroom-Signature)')
    .option('--secret <secret>', 'HMAC-SHA256 secret, at least 16 characters')
    .action(async (name: string, o: { secret?: string }) => {
      const c = ctx();
      const r = await withStockroom(c.env, (s) => s.sync.configureSource(name, o.secret ?? null));
      c.print(r, `source ${r.name} ${r.signed ? 'requires signed batches' : 'accepts unsigned batches'}`);
    });
  sync
    .command('pull')
    .description('ask a source for on-hand numbers changed since the last pull, and apply them all or nothing')
    .requiredOption(
      '--url <url>',
      'the source answers GET URL?changedSince=<ISO time> with { "items": [{ sku, warehouse, on_hand }] }',
    )
    .requiredOption('--source <name>', 'the source name (recorded on the ledger; keeps its own cursor)')
    .option('--every <duration>', 'keep pulling at this interval (30s, 5m, 1h) until stopped')
    .action(async (o: { url: string; source: string; every?: string }) => {
      const c = ctx();
      const every = o.every === undefined ? undefined : duration(o.every);
      await withStockroom(c.env, async (s) => {
        const once = async () => {
          const r = await s.sync.pull(o.url, o.source, { actor: c.actor });
          c.print(
            r,
            `${o.source}: ${r.levels.length} levels synced, ${r.shortfalls.length} shortfalls; next pull from ${r.last_sync_at}`,
          );
        };
        if (every === undefined) return once();
        const state: { stop: boolean; wake: () => void } = { stop: false, wake: () => undefined };
        const onSignal = () => {
          state.stop = true;
          state.wake();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        while (!state.stop) {
          // one failed round is reported and retried at the next interval; it applied nothing
          await once().catch((error: unknown) => {
            c.io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
          });
          await new Promise<void>((resolve) => {
            state.wake = resolve;
            setTimeout(resolve, every).unref();
          });
        }
      });
    });
}

import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { ENV_INT_MAX } from './args.js';
import { runAndPrint, withStockroom } from './context.js';
import type { CommandContext } from './context.js';

/** The shortest --every: a shorter one would ask the source again as fast as it answers. */
export const MIN_PULL_EVERY_MS = 1000;

/** The longest --every: the longest wait a Node timer keeps (a longer one fires at once, with only a warning). */
export const MAX_PULL_EVERY_MS = ENV_INT_MAX;

/** "30s", "5m", "1h" in milliseconds, from MIN_PULL_EVERY_MS to MAX_PULL_EVERY_MS. */
function duration(text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text.trim());
  if (!match) throw ValidationError.field('/every', `"${text}" is not a duration such as 30s, 5m or 1h`);
  const ms = Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
  if (!(ms >= MIN_PULL_EVERY_MS && ms <= MAX_PULL_EVERY_MS))
    throw ValidationError.field(
      '/every',
      `"${text}" is out of range: from 1s to 596h (a timer waits at most ${MAX_PULL_EVERY_MS} ms)`,
    );
  return ms;
}

/** `stockroom sync`: external warehouse systems, as signed push sources or pulled on an interval. */
export function registerSync(program: Command, ctx: () => CommandContext): void {
  const sync = program.command('sync').description('external warehouse systems');
  sync
    .command('source <name>')
    .description('register a source; with --secret its pushed batches must be signed (X-Stockroom-Signature)')
    .option('--secret <secret>', 'HMAC-SHA256 secret, at least 16 characters')
    .action(async (name: string, options: { secret?: string }) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.sync.configureSource(name, options.secret ?? null),
        (source) => `source ${source.name} ${source.signed ? 'requires signed batches' : 'accepts unsigned batches'}`,
      );
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
    .action(async (options: { url: string; source: string; every?: string }) => {
      const context = ctx();
      const every = options.every === undefined ? undefined : duration(options.every);
      await withStockroom(context.env, async (stockroom) => {
        const once = async () => {
          const pulled = await stockroom.sync.pull(options.url, options.source, { actor: context.actor });
          context.print(
            pulled,
            `${options.source}: ${pulled.levels.length} levels synced, ${pulled.shortfalls.length} shortfalls; next pull from ${pulled.last_sync_at}`,
          );
        };
        if (every === undefined) return once();
        await stockroom.sync.checkPull(options.url, options.source);
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
            context.io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
          });
          await new Promise<void>((resolve) => {
            state.wake = resolve;
            setTimeout(resolve, every).unref();
          });
        }
      });
    });
}

import type { Command } from 'commander';
import { pageSizeOption } from './args.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

/** `stockroom deliveries`: the log of getting alerts to their channels, and retrying a dead letter. */
export function registerDeliveries(program: Command, ctx: () => CommandContext): void {
  const deliveries = program.command('deliveries').description('the delivery log of alerts');
  deliveries
    .command('list')
    .description('deliveries, newest first, with their tries')
    .option('--status <status>', 'pending | delivered | dead | cancelled')
    .option('--channel <id>', 'of one channel')
    .option('--limit <n>', 'how many', pageSizeOption, 50)
    .action(async (options: { status?: string; channel?: string; limit: number }) => {
      await runAndPrint(
        ctx(),
        (stockroom) =>
          stockroom.channels.deliveries({ status: options.status, channel: options.channel, limit: options.limit }),
        (page) =>
          table(
            ['ID', 'CHANNEL', 'EVENT', 'STATUS', 'TRIES', 'NEXT TRY', 'LAST ERROR'],
            page.items.map((delivery) => [
              delivery.id,
              `${delivery.channel_id} ${delivery.kind}`,
              `${delivery.event_id} ${delivery.event}`,
              delivery.status,
              delivery.attempts,
              delivery.next_attempt_at,
              delivery.last_error,
            ]),
          ),
      );
    });
  deliveries
    .command('retry <id>')
    .description('send a dead letter again, with a fresh budget of tries (a running server sends it)')
    .action(async (id: string) => {
      await runAndPrint(
        ctx(),
        async (stockroom) => {
          await stockroom.channels.retry(id);
          return { id: Number(id), status: 'pending' };
        },
        () => `delivery ${id} is due again`,
      );
    });
}

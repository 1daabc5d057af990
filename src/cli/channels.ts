import type { Command } from 'commander';
import { parseChannelInput } from '../services/schemas.js';
import { commaList } from './args.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

/** `stockroom channels`: where alerts are delivered (webhook, Slack, Telegram, email). */
export function registerChannels(program: Command, ctx: () => CommandContext): void {
  const channels = program
    .command('channels')
    .description('where alerts are delivered: webhook, slack, telegram, email');
  channels
    .command('add <kind>')
    .description(
      'add a channel (webhook: --url --secret; slack: --url; telegram: --bot-token --chat-id; email: --smtp-url --from --to)',
    )
    .requiredOption(
      '--events <list>',
      'comma-separated: low_stock, out_of_stock, back_in_stock, stock.shortfall, stock.changed, reservation.*, ...',
    )
    .option('--name <name>', 'a name to know it by')
    .option('--url <url>', 'webhook or Slack incoming-webhook URL')
    .option('--secret <secret>', 'webhook signing secret (16+ characters)')
    .option('--bot-token <token>', 'Telegram bot token')
    .option('--chat-id <id>', 'Telegram chat id or @channel')
    .option('--api-url <url>', 'Telegram Bot API base URL (default https://api.telegram.org)')
    .option('--smtp-url <url>', 'smtp://user:pass@host:587')
    .option('--from <address>', 'email sender')
    .option('--to <addresses>', 'email recipients, comma-separated')
    .option('--batch', 'webhook: send events in batches, one POST of {"events": [...]} per delivery')
    .action(async (kind: string, options: Record<string, string | boolean | undefined>) => {
      const text = (name: string): string | undefined => {
        const value = options[name];
        return typeof value === 'string' ? value : undefined;
      };
      const input = {
        kind,
        events: commaList(text('events') ?? ''),
        name: text('name'),
        url: text('url'),
        secret: text('secret'),
        bot_token: text('botToken'),
        chat_id: text('chatId'),
        api_url: text('apiUrl'),
        smtp_url: text('smtpUrl'),
        from: text('from'),
        to: text('to'),
        batch: options['batch'] === true ? true : undefined,
      };
      const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.channels.add(parseChannelInput(given)),
        (channel) => `channel ${channel.id}: ${channel.kind} to ${channel.target} for ${channel.events.join(', ')}`,
      );
    });
  channels
    .command('list')
    .description('every channel (never its secrets)')
    .action(async () => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.channels.list(),
        (page) =>
          table(
            ['ID', 'KIND', 'NAME', 'TARGET', 'EVENTS'],
            page.items.map((channel) => [
              channel.id,
              channel.kind,
              channel.name,
              channel.target,
              channel.events.join(','),
            ]),
          ),
      );
    });
  channels
    .command('remove <id>')
    .description('stop a channel; what it has not got through yet is cancelled, its delivery log stays')
    .action(async (id: string) => {
      await runAndPrint(
        ctx(),
        async (stockroom) => {
          await stockroom.channels.remove(id);
          return { id: Number(id), removed: true };
        },
        () => `channel ${id} removed`,
      );
    });
}

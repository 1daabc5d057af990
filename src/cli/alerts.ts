import type { Command } from 'commander';
import { pageSizeOption } from './args.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

/** `stockroom alerts`: the stock alerts raised, newest first. */
export function registerAlerts(program: Command, ctx: () => CommandContext): void {
  program
    .command('alerts')
    .description('low-stock, out-of-stock and back-in-stock alerts, newest first')
    .option('--type <type>', 'low_stock | out_of_stock | back_in_stock')
    .option('--sku <sku>', 'of one SKU')
    .option('--limit <n>', 'how many', pageSizeOption, 50)
    .action(async (options: { type?: string; sku?: string; limit: number }) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.alerts.list({ type: options.type, sku: options.sku, limit: options.limit }),
        (page) =>
          table(
            ['ID', 'WHEN', 'TYPE', 'SKU', 'WAREHOUSE', 'AVAILABLE', 'THRESHOLD'],
            page.items.map((alert) => [
              alert.id,
              alert.created_at,
              alert.type,
              alert.sku,
              alert.warehouse ?? 'all',
              alert.available,
              alert.threshold,
            ]),
          ),
      );
    });
}

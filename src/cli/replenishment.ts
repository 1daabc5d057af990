import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { int } from './args.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { formatPurchaseOrder, table } from './output.js';

/** `stockroom replenish`: draft the purchase orders that are due, or with --dry-run only show them. */
export function registerReplenishment(program: Command, ctx: () => CommandContext): void {
  program
    .command('replenish')
    .description('draft purchase orders for variants at or below their reorder point (what the daily job does)')
    .option('--dry-run', 'only show what is due, with demand-based suggestions')
    .option('--sku <sku...>', 'with --dry-run: these SKUs, due or not')
    // no commander defaults: the service's (28 days, 0.95) apply, and an option given to a run can be told apart
    .option('--window-days <n>', 'with --dry-run: days of demand history (default 28)')
    .option('--service-level <p>', 'with --dry-run: chance of not running out during the lead time (default 0.95)')
    .action(async (options: { dryRun?: boolean; sku?: string[]; windowDays?: string; serviceLevel?: string }) => {
      // a run drafts for every due variant (as POST /v1/replenishment/run, which takes no SKUs nor a demand model):
      // run with --sku, it would order what the operator meant to leave out, and with the others it would not use them
      if (!options.dryRun) {
        if (options.sku !== undefined)
          throw ValidationError.field(
            '/sku',
            '--sku only applies with --dry-run: a run drafts orders for every due variant (add --dry-run to see these SKUs)',
          );
        for (const [given, name, field] of [
          [options.windowDays, '--window-days', '/window_days'],
          [options.serviceLevel, '--service-level', '/service_level'],
        ] as const)
          if (given !== undefined)
            throw ValidationError.field(
              field,
              `${name} only applies with --dry-run: a run drafts from each variant's reorder point and quantity, not from demand`,
            );
      }
      if (options.dryRun) {
        const query = {
          sku: options.sku,
          window_days: options.windowDays === undefined ? undefined : int(options.windowDays),
          service_level: options.serviceLevel,
          limit: 500,
        };
        await runAndPrint(
          ctx(),
          (stockroom) => stockroom.replenishment.suggestions(query),
          (page) =>
            table(
              ['SKU', 'SUPPLIER', 'POSITION', 'ROP', 'ORDER', 'OPEN PO', 'DEMAND/DAY', 'SUGGESTED SS', 'SUGGESTED ROP'],
              page.items.map((suggestion) => [
                suggestion.sku,
                suggestion.supplier,
                suggestion.position,
                suggestion.reorder_point,
                suggestion.suggested_qty,
                suggestion.open_purchase_order,
                suggestion.demand.mean_per_day.toFixed(2),
                suggestion.suggested_safety_stock,
                suggestion.suggested_reorder_point,
              ]),
            ),
        );
        return;
      }
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.replenishment.replenish(),
        (run) => {
          const drafted = run.orders.length === 0 ? 'nothing to order' : run.orders.map(formatPurchaseOrder).join('\n');
          const skipped = run.skipped.map((skip) => `skipped ${skip.sku}: ${skip.reason.replaceAll('_', ' ')}`);
          return [drafted, ...skipped].join('\n');
        },
      );
    });
}

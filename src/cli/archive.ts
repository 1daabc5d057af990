import type { Command } from 'commander';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';

/** `stockroom warehouse archive|unarchive` and `variant archive|unarchive`. */
export function registerArchive(warehouse: Command, variant: Command, ctx: () => CommandContext): void {
  warehouse
    .command('archive <code>')
    .description('archive a warehouse: out of routing, the storefront and lists (refused while it holds stock)')
    .action(async (code: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.catalog.archiveWarehouse(code, call),
        (archived) => `warehouse ${archived.code} archived at ${archived.archived_at ?? ''}`,
      );
    });
  warehouse
    .command('unarchive <code>')
    .description('take an archived warehouse back into use')
    .action(async (code: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.catalog.unarchiveWarehouse(code, call),
        (restored) => `warehouse ${restored.code} in use`,
      );
    });
  variant
    .command('archive <sku>')
    .description('archive a variant: out of routing, the storefront and lists (refused while it holds stock)')
    .action(async (sku: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.catalog.archiveVariant(sku, call),
        (archived) => `variant ${archived.sku} archived at ${archived.archived_at ?? ''}`,
      );
    });
  variant
    .command('unarchive <sku>')
    .description('take an archived variant back into use')
    .action(async (sku: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.catalog.unarchiveVariant(sku, call),
        (restored) => `variant ${restored.sku} in use`,
      );
    });
}

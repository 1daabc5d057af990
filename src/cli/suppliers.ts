import type { Command } from 'commander';
import { SupplierInput, parse } from '../services/schemas.js';
import { intOption } from './args.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

/** `stockroom suppliers`: who stock is bought from. */
export function registerSuppliers(program: Command, ctx: () => CommandContext): void {
  const suppliers = program.command('suppliers').description('who stock is bought from');
  suppliers
    .command('add <code> <name>')
    .description('add a supplier')
    .option('--email <address>', 'where orders go')
    .option('--lead-time <days>', 'days from order to delivery', intOption)
    .option('--warehouse <code>', 'where its orders are delivered unless an order says otherwise')
    .option('--currency <code>', "the ISO 4217 currency it bills in (must be the store's, STOCKROOM_CURRENCY)")
    .action(
      async (
        code: string,
        name: string,
        options: { email?: string; leadTime?: number; warehouse?: string; currency?: string },
      ) => {
        const { email, leadTime, warehouse, currency } = options;
        const input = { code, name, email, lead_time_days: leadTime, warehouse, currency };
        await runAndPrint(
          ctx(),
          (stockroom, call) => stockroom.purchasing.addSupplier(parse(SupplierInput, input), call),
          (supplier) => `supplier ${supplier.code} (${supplier.name})`,
        );
      },
    );
  suppliers
    .command('list')
    .description('every supplier')
    .action(async () => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.purchasing.listSuppliers(),
        (page) =>
          table(
            ['CODE', 'NAME', 'EMAIL', 'LEAD DAYS', 'WAREHOUSE'],
            page.items.map((supplier) => [
              supplier.code,
              supplier.name,
              supplier.email,
              supplier.lead_time_days,
              supplier.warehouse,
            ]),
          ),
      );
    });
}

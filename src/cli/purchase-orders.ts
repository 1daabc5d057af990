import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { PurchaseOrderCostsInput, PurchaseOrderInput, PurchaseReceiptInput, parse } from '../services/schemas.js';
import { pageSizeOption, skuQty } from './args.js';
import { runAndPrint } from './context.js';
import { skuCosts } from './money.js';
import type { CommandContext } from './context.js';
import { formatPurchaseOrder, table } from './output.js';

/** `SKU:QTY` or `SKU:QTY@BIN` for receipts. */
function receiptLines(pairs: readonly string[]): { sku: string; qty: number | string; bin?: string }[] {
  const binAt = (pair: string): number => pair.lastIndexOf('@');
  const lines = skuQty('lines')(pairs.map((pair) => (binAt(pair) > 0 ? pair.slice(0, binAt(pair)) : pair)));
  return lines.map((line, i) => {
    const pair = pairs[i] ?? '';
    return binAt(pair) > 0 ? { ...line, bin: pair.slice(binAt(pair) + 1) } : line;
  });
}

/** `stockroom po`: purchase orders, from draft to received. */
export function registerPurchaseOrders(program: Command, ctx: () => CommandContext): void {
  const orders = program
    .command('po')
    .description('purchase orders: DRAFT, SENT, CONFIRMED, PARTIAL, RECEIVED, CANCELLED');
  orders
    .command('create <supplier> <warehouse> <lines...>')
    .description('draft an order; lines are SKU:QTY')
    .option('--expected <date>', 'expected delivery, YYYY-MM-DD')
    .option('--reference <ref>', 'your reference')
    .option('--cost <SKU=AMOUNT...>', 'what one unit of a line costs, in the store currency (e.g. TEE-M=4.50)')
    .action(
      async (
        supplier: string,
        warehouse: string,
        lines: string[],
        options: { expected?: string; reference?: string; cost?: string[] },
      ) => {
        const costs = skuCosts(options.cost ?? [], ctx().env);
        const ordered = skuQty('lines')(lines);
        // a cost is a line's: one for a SKU the order does not have would be dropped, and the order made without it
        costs.forEach((cost, i) => {
          if (!ordered.some((line) => line.sku === cost.sku))
            throw ValidationError.field(
              `/costs/${i}`,
              `${cost.sku} is not on the order (its lines: ${ordered.map((line) => line.sku).join(', ')})`,
            );
        });
        const input = {
          supplier,
          warehouse,
          lines: ordered.map((line) => {
            const unitCost = costs.find((cost) => cost.sku === line.sku)?.unitCost;
            return unitCost === undefined ? line : { ...line, unit_cost: unitCost };
          }),
          expected_date: options.expected,
          reference: options.reference,
        };
        await runAndPrint(
          ctx(),
          (stockroom, call) => stockroom.purchasing.create(parse(PurchaseOrderInput, input), call),
          formatPurchaseOrder,
        );
      },
    );
  orders
    .command('list')
    .description('orders, newest first')
    .option('--status <status>', 'DRAFT, SENT, CONFIRMED, PARTIAL, RECEIVED or CANCELLED')
    .option('--supplier <code>', 'of one supplier')
    .option('--limit <n>', 'how many', pageSizeOption, 50)
    .action(async (options: { status?: string; supplier?: string; limit: number }) => {
      await runAndPrint(
        ctx(),
        (stockroom) =>
          stockroom.purchasing.list({ status: options.status, supplier: options.supplier, limit: options.limit }),
        (page) =>
          table(
            ['ID', 'SUPPLIER', 'WAREHOUSE', 'STATUS', 'EXPECTED', 'LINES', 'OUTSTANDING'],
            page.items.map((order) => [
              order.id,
              order.supplier,
              order.warehouse,
              order.status,
              order.expected_date,
              order.lines.length,
              order.lines.reduce((sum, line) => sum + line.outstanding, 0),
            ]),
          ),
      );
    });
  orders
    .command('show <id>')
    .description('one order')
    .action(async (id: string) => {
      await runAndPrint(ctx(), (stockroom) => stockroom.purchasing.get(id), formatPurchaseOrder);
    });
  for (const [action, description] of [
    ['send', 'DRAFT to SENT: the supplier has it (dated by its lead time if undated)'],
    ['cancel', 'cancel what is still open'],
  ] as const) {
    orders
      .command(`${action} <id>`)
      .description(description)
      .action(async (id: string) => {
        await runAndPrint(ctx(), (stockroom, call) => stockroom.purchasing[action](id, call), formatPurchaseOrder);
      });
  }
  orders
    .command('confirm <id>')
    .description("SENT to CONFIRMED, with the supplier's date")
    .option('--expected <date>', 'the date the supplier confirmed, YYYY-MM-DD')
    .action(async (id: string, options: { expected?: string }) => {
      const input = options.expected === undefined ? {} : { expected_date: options.expected };
      await runAndPrint(ctx(), (stockroom, call) => stockroom.purchasing.confirm(id, input, call), formatPurchaseOrder);
    });
  orders
    .command('costs <id> <costs...>')
    .description('set what one unit of some lines costs: SKU=AMOUNT, in the store currency (e.g. TEE-M=4.75)')
    .action(async (id: string, pairs: string[]) => {
      const lines = skuCosts(pairs, ctx().env).map((cost) => ({ sku: cost.sku, unit_cost: cost.unitCost }));
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.purchasing.setCosts(id, parse(PurchaseOrderCostsInput, { lines }), call),
        formatPurchaseOrder,
      );
    });
  orders
    .command('receive <id> <lines...>')
    .description('receive units: SKU:QTY (put away where suggested) or SKU:QTY@BIN')
    .option('--reference <ref>', 'e.g. the delivery note')
    .option('--force', 'put the units away even where there is no room for them')
    .action(async (id: string, lines: string[], options: { reference?: string; force?: boolean }) => {
      const input = { lines: receiptLines(lines), reference: options.reference, force: options.force };
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.purchasing.receive(id, parse(PurchaseReceiptInput, input), call),
        (receipt) => {
          const putAway = receipt.put_away.map(
            (put) =>
              `  ${put.qty} x ${put.sku} -> ${put.bin ?? 'no bin (none to suggest)'}${put.suggested && put.bin ? ' (suggested)' : ''}`,
          );
          return `${formatPurchaseOrder(receipt.order)}\nput away:\n${putAway.join('\n')}`;
        },
      );
    });
}

import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { AdjustInput, CountInput, ReceiveInput, ReturnInput, TransferInput, parse } from '../services/schemas.js';
import { stockCsv, tooMany } from '../services/stock-csv.js';
import { stockListCsv } from '../services/stock-export.js';
import type { StockListInput } from '../services/stock-list.js';
import { ValidationError } from '../domain/errors.js';
import { MoveStateInput } from '../services/state-schemas.js';
import { runAndPrint, withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { formatLevel, formatMovements, formatStock, table, withMoreHint } from './output.js';
import { int, intOption, pageSizeOption } from './args.js';
import { unitCostArg } from './money.js';
import { importLimits } from './serve-limits.js';
import { writeOutput } from './output-file.js';

/** The warning a change that leaves promised units without stock prints under its level. */
const shortfallWarning = (shortfall: number): string =>
  shortfall > 0 ? `\nwarning: ${shortfall} promised unit(s) are not on hand` : '';

/** `stockroom receive`, `adjust`, `count`, `transfer`, `return`, `stock` and `movements`: stock and its ledger. */
export function registerStock(program: Command, ctx: () => CommandContext): void {
  program
    .command('receive <sku> <warehouse> <qty>')
    .description('receive units into a warehouse')
    .option('--bin <code>', 'put away into this bin')
    .option('--reason <reason>', 'received | restock', 'received')
    .option('--reference <ref>', 'e.g. a delivery note')
    .option('--force', 'into --bin even without room for the units there')
    .option('--unit-cost <amount>', 'what one unit cost, in the store currency (e.g. 4.50)')
    .action(
      async (
        sku: string,
        warehouse: string,
        qty: string,
        options: { bin?: string; reason: string; reference?: string; force?: boolean; unitCost?: string },
      ) => {
        const input = {
          sku,
          warehouse,
          qty: int(qty),
          bin: options.bin,
          reason: options.reason,
          reference: options.reference,
          force: options.force,
          unit_cost: options.unitCost === undefined ? undefined : unitCostArg(options.unitCost, ctx().env),
        };
        await runAndPrint(
          ctx(),
          (stockroom, call) => stockroom.stock.receive(parse(ReceiveInput, input), call),
          formatLevel,
        );
      },
    );

  program
    .command('adjust <sku> <warehouse> <delta>')
    .description('add or remove units for a reason (negative delta removes)')
    .requiredOption(
      '--reason <reason>',
      'received, restock, correction, cycle_count, damaged, shrinkage, promotion, return, transfer, sync, other',
    )
    .option('--reference <ref>', 'e.g. an incident number')
    .option('--expected <n>', 'refuse if on hand is no longer this (compare-and-set)', intOption)
    .action(
      async (
        sku: string,
        warehouse: string,
        delta: string,
        options: { reason: string; reference?: string; expected?: number },
      ) => {
        const input = {
          sku,
          warehouse,
          delta: int(delta),
          reason: options.reason,
          reference: options.reference,
          expected_on_hand: options.expected,
        };
        await runAndPrint(
          ctx(),
          (stockroom, call) => stockroom.stock.adjust(parse(AdjustInput, input), call),
          (level) => formatLevel(level) + shortfallWarning(level.shortfall),
        );
      },
    );

  program
    .command('count <sku> <warehouse> <counted>')
    .description('record a cycle count: the counted number becomes on hand')
    .option('--reference <ref>', 'e.g. a count sheet')
    .option('--expected <n>', 'refuse if on hand is no longer this (compare-and-set)', intOption)
    .action(
      async (sku: string, warehouse: string, counted: string, options: { reference?: string; expected?: number }) => {
        const input = {
          sku,
          warehouse,
          counted: int(counted),
          reference: options.reference,
          expected_on_hand: options.expected,
        };
        await runAndPrint(
          ctx(),
          (stockroom, call) => stockroom.stock.count(parse(CountInput, input), call),
          (level) => {
            const difference = level.difference > 0 ? `+${level.difference}` : String(level.difference);
            return `${formatLevel(level)} (difference ${difference})` + shortfallWarning(level.shortfall);
          },
        );
      },
    );

  program
    .command('transfer <sku> <from> <to> <qty>')
    .description('move available units between warehouses')
    .option('--reference <ref>', 'e.g. a transfer order')
    .action(async (sku: string, from: string, to: string, qty: string, options: { reference?: string }) => {
      const input = { sku, from, to, qty: int(qty), reference: options.reference };
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.stock.transfer(parse(TransferInput, input), call),
        (transfer) => `${formatLevel(transfer.from)}\n${formatLevel(transfer.to)}`,
      );
    });

  program
    .command('return <sku> <warehouse> <qty>')
    .description('record a customer return')
    .requiredOption('--condition <condition>', 'resellable | damaged')
    .requiredOption('--reference <ref>', 'e.g. an RMA number')
    .action(async (sku: string, warehouse: string, qty: string, options: { condition: string; reference: string }) => {
      const input = { sku, warehouse, qty: int(qty), condition: options.condition, reference: options.reference };
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.stock.return(parse(ReturnInput, input), call),
        (returned) => `return ${returned.id}: ${returned.qty} ${returned.condition}\n${formatLevel(returned.level)}`,
      );
    });

  const stock = program
    .command('stock <sku>')
    .description('on hand, reserved (committed and pending), states and available per warehouse')
    .action(async (sku: string) => {
      await runAndPrint(ctx(), (stockroom) => stockroom.stock.get(sku), formatStock);
    });
  registerStateMove(stock, ctx);
  registerStockList(stock, ctx);

  program
    .command('movements <sku>')
    .description('the ledger of a SKU, newest first')
    .option('--warehouse <code>', 'only this warehouse')
    .option('--type <type>', 'only this movement type')
    .option('--since <iso>', 'only movements at or after this time')
    .option('--limit <n>', 'page size', pageSizeOption)
    .option('--cursor <id>', 'continue from a previous page')
    .action(
      async (
        sku: string,
        options: { warehouse?: string; type?: string; since?: string; limit?: number; cursor?: string },
      ) => {
        await runAndPrint(
          ctx(),
          (stockroom) => stockroom.stock.movements({ sku, ...options }),
          (page) => withMoreHint(page, formatMovements(page.items)),
        );
      },
    );
}

/** `stockroom stock move-state`: units moved between the states of one level. */
function registerStateMove(stock: Command, ctx: () => CommandContext): void {
  stock
    .command('move-state <sku> <warehouse> <qty>')
    .description('move units between states: available, damaged, quality_control, safety_stock')
    .requiredOption('--from <state>', 'available | damaged | quality_control | safety_stock')
    .requiredOption('--to <state>', 'available | damaged | quality_control | safety_stock')
    .requiredOption('--reason <reason>', 'e.g. damaged, quality_control, correction, other')
    .option('--note <text>', 'kept on the ledger row as its reference')
    .action(
      async (
        sku: string,
        warehouse: string,
        qty: string,
        options: { from: string; to: string; reason: string; note?: string },
      ) => {
        const input = { sku, warehouse, qty: int(qty), ...options };
        await runAndPrint(
          ctx(),
          (stockroom, call) => stockroom.stock.moveState(parse(MoveStateInput, input), call),
          (level) =>
            `${formatLevel(level)} (damaged ${level.damaged}, quality control ${level.quality_control}, ` +
            `safety stock ${level.safety_stock})`,
        );
      },
    );
}

/** What `stockroom stock list` takes: the filters and order of GET /v1/stock, a page or every row as CSV. */
interface StockListFlags {
  warehouse?: string;
  status?: string;
  category?: string;
  tag?: string;
  supplier?: string;
  belowReorderPoint?: boolean;
  query?: string;
  attribute?: string[];
  sort?: string;
  order?: string;
  limit?: number;
  cursor?: string;
  low?: boolean;
  csv?: boolean;
  output?: string;
}

/** `stockroom stock list`: the stock list as a table, a page at a time, or every matching level as CSV. */
function registerStockList(stock: Command, ctx: () => CommandContext): void {
  stock
    .command('list')
    .description('every level as a list, filtered and sorted (as GET /v1/stock), or with --csv every matching one')
    .option('--warehouse <code>', 'only this warehouse')
    .option('--status <status>', 'in_stock | low | out | preorder | backorder')
    .option('--low', 'what is low or out now (at or below the threshold), lowest available first')
    .option('--category <path>', 'this category and those below it')
    .option('--tag <tag>', 'products with this tag')
    .option('--supplier <code>', "variants of this supplier's")
    .option('--below-reorder-point', 'variants at or below their reorder point')
    .option('--query <text>', 'a part of the SKU or the product title')
    .option(
      '--attribute <name:value>',
      'variants with this attribute value (repeat for more, all must match)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--sort <field>', 'sku | on_hand | reserved | committed | available | incoming')
    .option('--order <order>', 'asc | desc')
    .option('--limit <n>', 'page size', pageSizeOption)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--csv', 'every matching level as CSV (no paging), to stdout or --output')
    .option('--output <file>', 'with --csv: write here instead of stdout')
    .action(async (flags: StockListFlags) => {
      // the flags given, by the query's names (the service checks them as it checks the query)
      const given = (values: Record<string, unknown>): StockListInput =>
        Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
      const filter = {
        warehouse: flags.warehouse,
        status: flags.status,
        category: flags.category,
        tag: flags.tag,
        supplier: flags.supplier,
        below_reorder_point: flags.belowReorderPoint,
        q: flags.query,
        attribute: flags.attribute,
        sort: flags.sort,
        order: flags.order,
      };
      if (flags.csv) {
        if (flags.limit !== undefined || flags.cursor !== undefined)
          throw ValidationError.field('/limit', '--csv writes every matching level: leave out --limit and --cursor');
        await withStockroom(ctx().env, async (stockroom) => {
          const input = given(filter);
          await writeOutput(flags.output, () =>
            stockListCsv(flags.low ? stockroom.stockList.lowRows(input) : stockroom.stockList.rows(input)),
          );
        });
        return;
      }
      const input = given({ ...filter, limit: flags.limit, cursor: flags.cursor });
      await runAndPrint(
        ctx(),
        async (stockroom) => {
          return flags.low ? stockroom.stockList.low(input) : stockroom.stockList.list(input);
        },
        (result) => {
          const rows = table(
            ['SKU', 'WAREHOUSE', 'STATUS', 'ON HAND', 'RESERVED', 'COMMITTED', 'AVAILABLE', 'INCOMING', 'CATEGORY'],
            result.items.map((item) => [
              item.sku,
              item.warehouse,
              item.status,
              item.on_hand,
              item.reserved,
              item.committed,
              item.available,
              item.incoming,
              item.category,
            ]),
          );
          const total = `${result.total_exact ? '' : 'at least '}${result.total} matching`;
          return withMoreHint(result, `${rows}\n${total}`);
        },
      );
    });
}

/** `stockroom import stock` and `export stock`: every level at once, as CSV. */
export function registerBulk(program: Command, ctx: () => CommandContext): void {
  program
    .command('import')
    .description('bulk changes from files')
    .command('stock <file>')
    .description('set on hand from a CSV with columns sku,warehouse,on_hand: every row checked first, all or nothing')
    .option('--reference <ref>', 'recorded on the ledger rows', 'csv-import')
    .option('--dry-run', 'check every row as the import would and say what would change; change nothing')
    .action(async (file: string, options: { reference: string; dryRun?: boolean }) => {
      const context = ctx();
      const { maxBytes, maxErrors, previewListed } = importLimits(context.env);
      if (options.dryRun) {
        // every row problem is reported (not only the first STOCKROOM_IMPORT_MAX_ERRORS), and refuses as the import would
        await runAndPrint(
          context,
          async (stockroom, call) => {
            const preview = await stockroom.stock.previewImport(createReadStream(file), {
              ...call,
              maxBytes,
              listed: previewListed,
            });
            const problems = preview.errors.map(({ path, message }) => ({ path, message }));
            if (preview.error_count > 0) throw tooMany(problems, problems.length, preview.error_count);
            return preview;
          },
          (preview) =>
            `dry run: ${preview.rows} rows, no problems; ${preview.changed} levels would change; nothing was applied` +
            (preview.shortfalls.length > 0
              ? `\nwarning: ${preview.shortfalls.length} levels would hold fewer units than are promised`
              : ''),
        );
        return;
      }
      // read as a stream, within the same limits as an import over HTTP
      await runAndPrint(
        context,
        (stockroom, call) =>
          stockroom.stock.importOnHand(createReadStream(file), {
            ...call,
            reference: options.reference,
            maxBytes,
            maxErrors,
          }),
        (imported) =>
          `imported ${imported.rows} rows: ${imported.changed} levels changed` +
          (imported.shortfalls.length > 0
            ? `\nwarning: ${imported.shortfalls.length} levels now hold fewer units than are promised`
            : ''),
      );
    });
  program
    .command('export')
    .description('bulk exports')
    .command('stock')
    .description('every level as CSV (sku,warehouse,on_hand,reserved,available), to stdout or a file')
    .option('--output <file>', 'write here instead of stdout')
    .action(async (options: { output?: string }) => {
      await withStockroom(ctx().env, async (stockroom) => {
        await writeOutput(options.output, () => stockCsv(stockroom.stock.exportLevels()));
      });
    });
}

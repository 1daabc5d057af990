import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { AdjustInput, CountInput, ReceiveInput, ReturnInput, TransferInput, parse } from '../services/schemas.js';
import { stockCsv } from '../services/stock-csv.js';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { formatLevel, formatMovements, formatStock } from './output.js';
import { int, intOption } from './args.js';
import { importLimits } from './serve-limits.js';

export function registerStock(program: Command, ctx: () => CommandContext): void {
  program
    .command('receive <sku> <warehouse> <qty>')
    .description('receive units into a warehouse')
    .option('--bin <code>', 'put away into this bin')
    .option('--reason <reason>', 'received | restock', 'received')
    .option('--reference <ref>', 'e.g. a delivery note')
    .action(
      async (sku: string, warehouse: string, qty: string, o: { bin?: string; reason: string; reference?: string }) => {
        const c = ctx();
        const level = await withStockroom(c.env, (s) =>
          s.stock.receive(
            parse(ReceiveInput, {
              sku,
              warehouse,
              qty: int(qty),
              bin: o.bin,
              reason: o.reason,
              reference: o.reference,
            }),
            { actor: c.actor },
          ),
        );
        c.print(level, formatLevel(level));
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
        o: { reason: string; reference?: string; expected?: number },
      ) => {
        const c = ctx();
        const level = await withStockroom(c.env, (s) =>
          s.stock.adjust(
            parse(AdjustInput, {
              sku,
              warehouse,
              delta: int(delta),
              reason: o.reason,
              reference: o.reference,
              expected_on_hand: o.expected,
            }),
            { actor: c.actor },
          ),
        );
        c.print(
          level,
          formatLevel(level) +
            (level.shortfall > 0 ? `\nwarning: ${level.shortfall} promised unit(s) are not on hand` : ''),
        );
      },
    );

  program
    .command('count <sku> <warehouse> <counted>')
    .description('record a cycle count: the counted number becomes on hand')
    .option('--reference <ref>', 'e.g. a count sheet')
    .option('--expected <n>', 'refuse if on hand is no longer this (compare-and-set)', intOption)
    .action(async (sku: string, warehouse: string, counted: string, o: { reference?: string; expected?: number }) => {
      const c = ctx();
      const r = await withStockroom(c.env, (s) =>
        s.stock.count(
          parse(CountInput, {
            sku,
            warehouse,
            counted: int(counted),
            reference: o.reference,
            expected_on_hand: o.expected,
          }),
          { actor: c.actor },
        ),
      );
      const diff = r.difference > 0 ? `+${r.difference}` : String(r.difference);
      c.print(
        r,
        `${formatLevel(r)} (difference ${diff})` +
          (r.shortfall > 0 ? `\nwarning: ${r.shortfall} promised unit(s) are not on hand` : ''),
      );
    });

  program
    .command('transfer <sku> <from> <to> <qty>')
    .description('move available units between warehouses')
    .option('--reference <ref>', 'e.g. a transfer order')
    .action(async (sku: string, from: string, to: string, qty: string, o: { reference?: string }) => {
      const c = ctx();
      const t = await withStockroom(c.env, (s) =>
        s.stock.transfer(parse(TransferInput, { sku, from, to, qty: int(qty), reference: o.reference }), {
          actor: c.actor,
        }),
      );
      c.print(t, `${formatLevel(t.from)}\n${formatLevel(t.to)}`);
    });

  program
    .command('return <sku> <warehouse> <qty>')
    .description('record a customer return')
    .requiredOption('--condition <condition>', 'resellable | damaged')
    .requiredOption('--reference <ref>', 'e.g. an RMA number')
    .action(async (sku: string, warehouse: string, qty: string, o: { condition: string; reference: string }) => {
      const c = ctx();
      const r = await withStockroom(c.env, (s) =>
        s.stock.return(
          parse(ReturnInput, { sku, warehouse, qty: int(qty), condition: o.condition, reference: o.reference }),
          { actor: c.actor },
        ),
      );
      c.print(r, `return ${r.id}: ${r.qty} ${r.condition}\n${formatLevel(r.level)}`);
    });

  program
    .command('stock <sku>')
    .description('on hand, reserved and available per warehouse')
    .action(async (sku: string) => {
      const c = ctx();
      const stock = await withStockroom(c.env, (s) => s.stock.get(sku));
      c.print(stock, formatStock(stock));
    });

  program
    .command('movements <sku>')
    .description('the ledger of a SKU, newest first')
    .option('--warehouse <code>', 'only this warehouse')
    .option('--type <type>', 'only this movement type')
    .option('--since <iso>', 'only movements at or after this time')
    .option('--limit <n>', 'page size', intOption)
    .option('--cursor <id>', 'continue from a previous page')
    .action(
      async (
        sku: string,
        o: { warehouse?: string; type?: string; since?: string; limit?: number; cursor?: string },
      ) => {
        const c = ctx();
        const page = await withStockroom(c.env, (s) => s.stock.movements({ sku, ...o }));
        c.print(page, () =>
          [formatMovements(page.items), ...(page.next_cursor ? [`(more: --cursor ${page.next_cursor})`] : [])].join(
            '\n',
          ),
        );
      },
    );
}

export function registerBulk(program: Command, ctx: () => CommandContext): void {
  program
    .command('import')
    .description('bulk changes from files')
    .command('stock <file>')
    .description('set on hand from a CSV with columns sku,warehouse,on_hand: every row checked first, all or nothing')
    .option('--reference <ref>', 'recorded on the ledger rows', 'csv-import')
    .action(async (file: string, o: { reference: string }) => {
      const c = ctx();
      const { maxBytes, maxErrors } = importLimits(c.env);
      // read as a stream, within the same limits as an import over HTTP
      const r = await withStockroom(c.env, (s) =>
        s.stock.importOnHand(createReadStream(file), { actor: c.actor, reference: o.reference, maxBytes, maxErrors }),
      );
      c.print(
        r,
        `imported ${r.rows} rows: ${r.changed} levels changed` +
          (r.shortfalls.length > 0
            ? `\nwarning: ${r.shortfalls.length} levels now hold fewer units than are promised`
            : ''),
      );
    });
  program
    .command('export')
    .description('bulk exports')
    .command('stock')
    .description('every level as CSV (sku,warehouse,on_hand,reserved,available), to stdout or a file')
    .option('--output <file>', 'write here instead of stdout')
    .action(async (o: { output?: string }) => {
      const c = ctx();
      await withStockroom(c.env, async (s) => {
        await pipeline(stockCsv(s.stock.exportLevels()), o.output ? createWriteStream(o.output) : process.stdout);
      });
    });
}

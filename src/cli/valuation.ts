import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { formatMoney } from '../domain/money.js';
import { VALUATION_GROUPS } from '../domain/valuation.js';
import { startedLines, valuationCsv, valuationXlsx } from '../services/valuation.js';
import type { Valuation } from '../services/valuation.js';
import { runAndPrint, withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { writeOutput } from './output-file.js';
import { table } from './output.js';

/** The report as a table, amounts in major units of its currency. */
function formatValuation(valuation: Valuation): string {
  const money = (minor: number | null): string | null =>
    minor === null ? null : formatMoney(minor, valuation.currency);
  const rows = [...valuation.groups, { ...valuation.total, key: 'TOTAL' }].map((group) => [
    group.key,
    group.levels,
    group.on_hand,
    group.uncosted_units,
    money(group.average_cost),
    money(group.value),
  ]);
  return `valuation as of ${valuation.as_of} (${valuation.currency}), by ${valuation.group_by}\n${table(
    [valuation.group_by.toUpperCase(), 'LEVELS', 'ON HAND', 'UNCOSTED', 'AVERAGE COST', 'VALUE'],
    rows,
  )}`;
}

/** `stockroom valuation`: on hand x moving-average cost, as of a date, grouped; or every level as CSV/xlsx. */
export function registerValuation(program: Command, ctx: () => CommandContext): void {
  program
    .command('valuation')
    .description('the value of stock on hand at moving-average cost, as of a date (as GET /v1/valuation)')
    .option('--as-of <date>', 'a date (the end of that UTC day) or a timestamp; default now')
    .option('--group-by <what>', VALUATION_GROUPS.join(' | '), 'warehouse')
    .option('--csv', 'every level with units as CSV (amounts in minor units), to stdout or --output')
    .option('--xlsx', 'every level with units as an Excel workbook, to --output')
    .option('--output <file>', 'with --csv or --xlsx: write here')
    .action(async (flags: { asOf?: string; groupBy: string; csv?: boolean; xlsx?: boolean; output?: string }) => {
      const query = { as_of: flags.asOf };
      if (flags.csv || flags.xlsx) {
        if (flags.xlsx && !flags.output) throw ValidationError.field('/output', '--xlsx needs --output FILE');
        await withStockroom(ctx().env, async (stockroom) => {
          // a refused export is told before the output file is made or a line is written
          const lines = await startedLines(stockroom.valuation.lines(query));
          await writeOutput(flags.output, () => (flags.xlsx ? valuationXlsx(lines) : valuationCsv(lines)));
        });
        return;
      }
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.valuation.report({ ...query, group_by: flags.groupBy }),
        formatValuation,
      );
    });
}

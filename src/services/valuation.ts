import type { Readable } from 'node:stream';
import Type from 'typebox';
import type { Static } from 'typebox';
import { MoneyOverflowError } from '../domain/errors.js';
import { MAX_AMOUNT, amountFromText } from '../domain/money.js';
import { VALUATION_GROUPS, averageCost, totalOf, valuationCutoff, valuationGroup } from '../domain/valuation.js';
import type { ValuationGroup, Valued } from '../domain/valuation.js';
import { findValueTooLarge, readValuationGroups, readValuationLevelsAfter } from '../store/valuation.js';
import { staleReads } from './context.js';
import type { ServiceContext } from './context.js';
import { Timestamp, parse } from './schemas.js';
import { tableCsv, tableXlsx } from './stock-export.js';
import type { ExportCells } from './stock-export.js';

/** What a valuation is asked for: as of when (a date: the end of that UTC day; none: now), grouped by what. */
export const ValuationInput = Type.Object(
  {
    as_of: Type.Optional(
      Type.String({ ...Timestamp, description: 'a date (the end of that UTC day) or a timestamp; none: now' }),
    ),
    group_by: Type.Optional(
      Type.Enum(VALUATION_GROUPS, { description: 'what to add levels up by (default warehouse)' }),
    ),
  },
  { additionalProperties: false },
);
/** What `valuation.report` and `valuation.lines` take, checked. */
export type ValuationInput = Static<typeof ValuationInput>;
/** What `valuation.report` and `valuation.lines` take: a query's values (one left undefined is not given). */
export interface ValuationQuery {
  as_of?: string | undefined;
  group_by?: string | undefined;
}

/** The query checked, its values left undefined dropped (a query string's parameters that were not given). */
const checked = (query: ValuationQuery): ValuationInput =>
  parse(ValuationInput, Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined)));

/** Stock and its value, in minor units of the store currency, with what one unit is worth on average. */
export interface ValuedStock extends Valued {
  /** levels with units on hand */
  levels: number;
  /** value / costed units, in whole minor units; null: no costed units */
  average_cost: number | null;
}

/** One group of a valuation: a warehouse, category, supplier or SKU (null: without a category or supplier). */
export interface ValuationGroupTotal extends ValuedStock {
  key: string | null;
}

/** On hand x cost as of a moment, read from the ledger, grouped and totalled. */
export interface Valuation {
  /** the last instant counted */
  as_of: string;
  /** ISO 4217: every amount is in its minor units */
  currency: string;
  group_by: ValuationGroup;
  groups: ValuationGroupTotal[];
  total: ValuedStock;
}

/** One level of a valuation, as the exports list it. */
export interface ValuationLine extends Valued {
  sku: string;
  warehouse: string;
  category: string | null;
  supplier: string | null;
  currency: string;
  average_cost: number | null;
}

/** The columns of a valuation export, in order; amounts in minor units of `currency`. */
export const VALUATION_COLUMNS = [
  'sku',
  'warehouse',
  'category',
  'supplier',
  'on_hand',
  'uncosted_units',
  'currency',
  'average_cost',
  'value',
] as const satisfies readonly (keyof ValuationLine)[];

/** Levels per read of an export: memory stays flat however many there are. */
const EXPORT_PAGE = 1000;

const withAverage = <Stock extends Valued & { levels: number }>(stock: Stock): Stock & ValuedStock => ({
  ...stock,
  average_cost: averageCost(stock),
});

/** The valuation report: on hand x moving-average cost by warehouse, category, supplier or SKU, as of any moment. */
export class ValuationService {
  constructor(private readonly ctx: ServiceContext) {}

  /** The value of the stock on hand as of a moment, from the ledger, added up as asked. */
  async report(input: ValuationQuery = {}): Promise<Valuation> {
    const query = checked(input);
    const groupBy = valuationGroup(query.group_by);
    const { asOf, until } = valuationCutoff(query.as_of, this.ctx.clock());
    const rows = await readValuationGroups(staleReads(this.ctx), until, groupBy);
    const groups = rows.map((row) =>
      withAverage({
        key: row.key,
        levels: row.levels,
        on_hand: row.on_hand,
        value: amountFromText(row.value, `the value of ${row.key ?? 'the rest'}`),
        uncosted_units: row.uncosted_units,
      }),
    );
    return {
      as_of: asOf.toISOString(),
      currency: this.ctx.currency,
      group_by: groupBy,
      groups,
      total: withAverage({ ...totalOf(groups), levels: groups.reduce((levels, group) => levels + group.levels, 0) }),
    };
  }

  /**
   * Every level with units as of a moment, in key order, read a page at a time (for the exports). Anything that
   * refuses the export is found when the first line is asked for, before any is given (see startedLines): a level
   * valued past what an amount may hold is looked for first, not met halfway through.
   */
  async *lines(input: ValuationQuery = {}): AsyncGenerator<ValuationLine> {
    const query = checked(input);
    const { until } = valuationCutoff(query.as_of, this.ctx.clock());
    const tooLarge = await findValueTooLarge(staleReads(this.ctx), until);
    if (tooLarge)
      throw MoneyOverflowError.stored(
        `the value of ${tooLarge.sku} in ${tooLarge.warehouse} (${tooLarge.value}, recorded by an older version)`,
        MAX_AMOUNT,
      );
    let after: { variantId: number; warehouseId: number } | null = null;
    for (;;) {
      const page = await readValuationLevelsAfter(staleReads(this.ctx), until, after, EXPORT_PAGE);
      for (const row of page) {
        const valued = { on_hand: row.on_hand, value: amountFromText(row.value), uncosted_units: row.uncosted_units };
        yield {
          sku: row.sku,
          warehouse: row.warehouse,
          category: row.category,
          supplier: row.supplier,
          currency: this.ctx.currency,
          ...valued,
          average_cost: averageCost(valued),
        };
      }
      const last = page.at(-1);
      if (!last || page.length < EXPORT_PAGE) return;
      after = { variantId: last.variant_id, warehouseId: last.warehouse_id };
    }
  }
}

/**
 * A valuation's lines with the first one already read, so that a refusal of the export (a date that is none, a value
 * past what an amount may hold) is thrown here, before the caller has answered or written anything.
 */
export async function startedLines(lines: AsyncGenerator<ValuationLine>): Promise<AsyncIterable<ValuationLine>> {
  const first = await lines.next();
  return (async function* () {
    if (first.done !== true) yield first.value;
    yield* lines;
  })();
}

const cellsOf = (line: ValuationLine): ExportCells => VALUATION_COLUMNS.map((column) => line[column]);

/** A valuation's levels as CSV, streamed (amounts in minor units). */
export const valuationCsv = (lines: AsyncIterable<ValuationLine>): Readable =>
  tableCsv(VALUATION_COLUMNS, lines, cellsOf);

/** A valuation's levels as an Excel workbook (sheet `valuation`), streamed (amounts in minor units). */
export const valuationXlsx = (lines: AsyncIterable<ValuationLine>): Readable =>
  tableXlsx('valuation', VALUATION_COLUMNS, lines, cellsOf);

import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify';
import type { Static, TSchema } from 'typebox';
import { ValidationError } from '../domain/errors.js';
import type { FieldError } from '../domain/errors.js';
import type { Level } from './dto.js';
import { Count, Sku, WarehouseCode, parse } from './schemas.js';

export const STOCK_CSV_COLUMNS = ['sku', 'warehouse', 'on_hand'] as const;
export const MAX_IMPORT_ROWS = 1_000_000;
/** More than this many problems and the rest are summarised: a wrong file should not answer with a megabyte. */
const MAX_REPORTED = 100;

export interface StockCsvRow {
  /** the line in the file, header = 1, for error messages */
  line: number;
  sku: string;
  warehouse: string;
  on_hand: number;
}

/**
 * Reads a stock CSV (header sku,warehouse,on_hand; other columns such as reserved or available, as the export
 * writes them, are ignored). Every row is checked before anything is returned; problems name their line.
 */
export function parseStockCsv(text: string): StockCsvRow[] {
  let records: string[][];
  try {
    const parsed: unknown = parseCsv(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false });
    records = parsed as string[][];
  } catch (error) {
    throw ValidationError.field('/csv', error instanceof Error ? error.message : 'not a CSV file');
  }
  const [header, ...body] = records;
  if (!header) throw ValidationError.field('/csv', 'the file is empty; expected a header sku,warehouse,on_hand');
  const index = Object.fromEntries(STOCK_CSV_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof STOCK_CSV_COLUMNS)[number], number>;
  const missingColumns = STOCK_CSV_COLUMNS.filter((c) => index[c] < 0);
  if (missingColumns.length > 0) throw ValidationError.field('/csv/header', `missing column${missingColumns.length > 1 ? 's' : ''} ${missingColumns.join(', ')}`);
  if (body.length === 0) throw ValidationError.field('/csv', 'no rows after the header');
  if (body.length > MAX_IMPORT_ROWS) throw ValidationError.field('/csv', `at most ${MAX_IMPORT_ROWS} rows per import`);

  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  const rows: StockCsvRow[] = [];
  body.forEach((record, i) => {
    const line = i + 2;
    const field = (name: (typeof STOCK_CSV_COLUMNS)[number]): string => record[index[name]] ?? '';
    const check = <S extends TSchema>(name: string, schema: S, value: unknown): Static<S> | undefined => {
      try {
        return parse(schema, value);
      } catch (error) {
        const message = error instanceof ValidationError ? (error.errors[0]?.message ?? 'invalid') : 'invalid';
        errors.push({ path: `/line/${line}/${name}`, message });
        return undefined;
      }
    };
    const sku = check('sku', Sku, field('sku'));
    const warehouse = check('warehouse', WarehouseCode, field('warehouse'));
    const raw = field('on_hand');
    const onHand = check('on_hand', Count, /^-?\d+$/.test(raw) ? Number(raw) : raw);
    if (sku === undefined || warehouse === undefined || onHand === undefined) return;
    const key = `${sku}\u0000${warehouse}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) errors.push({ path: `/line/${line}`, message: `${sku} at ${warehouse} is already on line ${earlier}` });
    seen.set(key, line);
    rows.push({ line, sku, warehouse, on_hand: onHand });
  });
  if (errors.length > 0) throw tooMany(errors);
  return rows;
}

export function tooMany(errors: FieldError[]): ValidationError {
  const shown = errors.slice(0, MAX_REPORTED);
  if (errors.length > MAX_REPORTED) shown.push({ path: '/csv', message: `and ${errors.length - MAX_REPORTED} more problems` });
  return new ValidationError(shown);
}

export const EXPORT_COLUMNS = ['sku', 'warehouse', 'on_hand', 'reserved', 'available'] as const satisfies readonly (keyof Level)[];

/** Levels as a CSV byte stream with a header; back-pressure reaches the database reads. */
export function stockCsv(levels: AsyncIterable<Level>): Readable {
  return Readable.from(levels).pipe(stringify({ header: true, columns: [...EXPORT_COLUMNS] }));
}

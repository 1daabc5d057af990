import { PassThrough, Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import { STOCK_LIST_COLUMNS } from './stock-list.js';
import type { StockListItem } from './stock-list.js';

/** How an export writes a product's tags in one cell: joined by `|` (a tag holds no `|`). */
export const TAG_SEPARATOR = '|';

/** One item as an export's cells, in STOCK_LIST_COLUMNS order: tags joined, a missing value (or no tag) empty. */
const cellsOf = (item: StockListItem): ExportCells =>
  STOCK_LIST_COLUMNS.map((column) =>
    column === 'tags' ? (item.tags.length > 0 ? item.tags.join(TAG_SEPARATOR) : null) : item[column],
  );

/** One row of an export: its cells in the order of the export's columns. */
export type ExportCells = (string | number | null)[];

async function* cellRecords<Item>(
  items: AsyncIterable<Item>,
  cells: (item: Item) => ExportCells,
): AsyncGenerator<ExportCells> {
  for await (const item of items) yield cells(item);
}

/** The items as CSV, streamed: a header line of the column names, then one line per item. */
export function stockListCsv(items: AsyncIterable<StockListItem>): Readable {
  return tableCsv(STOCK_LIST_COLUMNS, items, cellsOf);
}

/** Any export's items as CSV, streamed: a header line of the columns, then one line of cells per item. */
export function tableCsv<Item>(
  columns: readonly string[],
  items: AsyncIterable<Item>,
  cells: (item: Item) => ExportCells,
): Readable {
  // a pipeline, not pipe: a client that goes away destroys the reading of the rows too
  return pipeline(
    Readable.from(cellRecords(items, cells)),
    // a title or tag that starts with = + - @ (or a tab, a return) would run as a formula in a spreadsheet: such a
    // text cell is written with a leading ' (numbers are left as they are)
    stringify({ header: true, columns: [...columns], escape_formulas: true }),
    () => {},
  );
}

/**
 * Characters a workbook's XML cannot hold (C0 controls but tab, line feed and return; DEL, which exceljs drops; the
 * noncharacters U+FFFE and U+FFFF, which it writes as they are and so makes the sheet unreadable), and a text that
 * reads as the escape itself.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it finds
const NOT_IN_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE\uFFFF]|_(?=x[0-9A-Fa-f]{4}_)/g;

/**
 * A text cell as a workbook holds it: each character its XML cannot hold written as `_xHHHH_`, the escape of
 * OOXML's strings that Excel and LibreOffice show as the character, and a `_` that would start such an escape as
 * `_x005F_`. A title with a control character in it is kept, not cut short or dropped.
 */
export const xlsxText = (text: string): string =>
  text.replace(NOT_IN_XML, (found) => `_x${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`);

/** Resolves when the stream has room again, or is gone (a client that went away never drains it). */
const drainedOrClosed = (stream: PassThrough): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });

/**
 * The items as an Excel workbook (.xlsx), streamed: one sheet, `stock`, with a header row of the column names and
 * one row per item, numbers as numbers. exceljs's streaming writer commits each row as it is written (no shared
 * strings table, which would grow with the rows); the next item is read only while the output is not full, so
 * a slow client holds the export back instead of the server buffering it.
 */
export function stockListXlsx(items: AsyncIterable<StockListItem>): Readable {
  return tableXlsx('stock', STOCK_LIST_COLUMNS, items, cellsOf);
}

/** Any export's items as a one-sheet Excel workbook, streamed as stockListXlsx streams the stock list. */
export function tableXlsx<Item>(
  sheetName: string,
  columns: readonly string[],
  items: AsyncIterable<Item>,
  cells: (item: Item) => ExportCells,
): Readable {
  const out = new PassThrough();
  const write = async (): Promise<void> => {
    // loaded here: a third of a second of every CLI command's start went to importing it, for the one that writes xlsx
    const { default: ExcelJS } = await import('exceljs');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet(sheetName);
    sheet.addRow([...columns]).commit();
    for await (const item of items) {
      sheet.addRow(cells(item).map((cell) => (typeof cell === 'string' ? xlsxText(cell) : cell))).commit();
      if (out.writableNeedDrain) await drainedOrClosed(out);
      if (out.destroyed) return; // leaving the loop ends the reading of the rows
    }
    sheet.commit();
    await workbook.commit();
  };
  write().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}

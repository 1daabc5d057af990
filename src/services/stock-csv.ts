import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as csvParser } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { Static, TSchema } from 'typebox';
import { PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import type { FieldError } from '../domain/errors.js';
import { LONE_SURROGATE } from '../domain/text.js';
import type { Level } from './dto.js';
import { Count, Sku, WarehouseCode, parse } from './schemas.js';
import { scanUtf8 } from './utf8.js';

/** The columns a stock CSV must have, in any order (the export's others are read past; any other is refused). */
export const STOCK_CSV_COLUMNS = ['sku', 'warehouse', 'on_hand'] as const;
/** Rows one import may set: a whole stock take of a large store, with the duplicate checks kept in memory. */
export const MAX_IMPORT_ROWS = 1_000_000;
/** 64 MiB: about two million CSV rows */
export const DEFAULT_IMPORT_MAX_BYTES = 64 * 1024 * 1024;
/** Problems and changes a dry run of an import lists (it counts them all): about a megabyte of answer. */
export const DEFAULT_PREVIEW_LISTED = 10_000;
/** Reading stops at this many problems: a wrong file should not cost a minute or answer with a megabyte. */
export const DEFAULT_IMPORT_MAX_ERRORS = 100;
/** rows checked between turns of the event loop, so other requests are answered during a large import */
const ROWS_PER_TURN = 250;
/**
 * The parser turns each piece it is given into rows in one go, so the input is fed to it in pieces this small
 * (a socket hands over 64 KiB at once: about 2,500 rows, 10-15 ms of the loop measured, against 2-4 ms now).
 */
const PIECE = 8 * 1024;

/** One checked row of a stock CSV, with its line for the messages that name it. */
export interface StockCsvRow {
  /** the line in the file, header = 1, for error messages */
  line: number;
  sku: string;
  warehouse: string;
  on_hand: number;
}

/** How much of a stock CSV is read before it is refused. */
export interface StockCsvLimits {
  /** larger files are refused (413) once this many bytes are read */
  maxBytes?: number | undefined;
  /** reading stops, and the file is refused, at this many row problems; the first ones are reported */
  maxErrors?: number | undefined;
}

/** A CSV as a string, or as the bytes of a stream (a request body, a file) as they arrive. */
export type CsvSource = string | AsyncIterable<Uint8Array | string>;

/** Stops reading at the error limit: the rows read so far do not matter any more. */
class EnoughProblems extends Error {}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The line each SKU and warehouse was first seen on, for duplicate checks. Split over many small maps: one map of
 * a million keys stops the event loop for a tenth of a second each time it grows.
 */
class SeenLines {
  private readonly shards = Array.from({ length: 1024 }, () => new Map<string, number>());

  private shardOf(key: string): Map<string, number> {
    // FNV-1a: cheap, and spreads keys that differ only in a digit
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return this.shards[(hash >>> 0) & 1023] as Map<string, number>;
  }

  /** the line `key` was on before, if it was; from now on it is on `line` */
  swap(key: string, line: number): number | undefined {
    const shard = this.shardOf(key);
    const earlier = shard.get(key);
    shard.set(key, line);
    return earlier;
  }
}

function* slicesOf(text: string): Generator<string> {
  for (let at = 0; at < text.length;) {
    // a slice that ended between the halves of a pair would hold a lone surrogate, which is refused below
    const last = text.charCodeAt(at + PIECE - 1);
    const end = at + PIECE < text.length && last >= 0xd800 && last <= 0xdbff ? at + PIECE - 1 : at + PIECE;
    yield text.slice(at, end);
    at = end;
  }
}

/**
 * Checks that a file is UTF-8 as its pieces arrive (a character may span two), counting lines to say where it is
 * not: read anyway, each bad byte would become U+FFFD, and a SKU or warehouse the file never named would be looked up.
 */
class Utf8Lines {
  /** the start of a character the last piece stopped in the middle of */
  private carry: Buffer = Buffer.alloc(0);
  /** the line `carry` is on (header = 1) */
  private line = 1;
  /** the offset in the file of `carry` */
  private offset = 0;

  check(piece: Buffer): void {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, piece]) : piece;
    const { invalidAt, tail } = scanUtf8(bytes);
    if (invalidAt !== undefined) throw this.refusal(bytes, invalidAt);
    const whole = bytes.length - tail;
    this.line += newlines(bytes, whole);
    this.offset += whole;
    this.carry = Buffer.from(bytes.subarray(whole));
  }

  /** A text piece (a CSV given as a string): one with half a surrogate pair would be written as U+FFFD. */
  checkText(piece: string): void {
    const lone = LONE_SURROGATE.exec(piece);
    if (lone) {
      const before = Buffer.from(piece.slice(0, lone.index), 'utf8');
      throw ValidationError.field(
        `/line/${this.line + newlines(before, before.length)}`,
        'must be valid Unicode: it has half of a surrogate pair',
      );
    }
  }

  /** The file ended: in the middle of a character, it is not UTF-8. */
  end(): void {
    if (this.carry.length > 0) throw this.refusal(this.carry, 0);
  }

  private refusal(bytes: Buffer, at: number): ValidationError {
    const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return ValidationError.field(
      `/line/${this.line + newlines(bytes, at)}`,
      `not valid UTF-8: byte 0x${byte} at offset ${this.offset + at} of the file; save the file as UTF-8`,
    );
  }
}

/** The bytes with every CR that ends a line (CRLF) left out, a CR at the end of a piece held for the next. */
async function* lineFeedsOnly(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let heldCr = false;
  for await (const piece of pieces) {
    if (heldCr && piece[0] !== LF) yield CR_BYTE;
    heldCr = piece[piece.length - 1] === CR;
    const end = heldCr ? piece.length - 1 : piece.length;
    let from = 0;
    for (let at = piece.indexOf(CRLF); at !== -1 && at < end; at = piece.indexOf(CRLF, at + 2)) {
      if (at > from) yield piece.subarray(from, at);
      from = at + 1;
    }
    if (end > from) yield piece.subarray(from, end);
  }
  if (heldCr) yield CR_BYTE;
}
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');
const CR_BYTE = Buffer.from('\r');

/** How many line feeds the first `end` characters of a text hold. */
function lineFeeds(text: string, end: number): number {
  let feeds = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < end; at = text.indexOf('\n', at + 1)) feeds++;
  return feeds;
}

/** How many line feeds the first `end` bytes hold. */
function newlines(bytes: Buffer, end: number): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1 && at < end; at = bytes.indexOf(0x0a, at + 1)) count++;
  return count;
}

async function* piecesOf(
  source: CsvSource,
  maxBytes: number,
  hash: ReturnType<typeof createHash>,
): AsyncGenerator<Buffer> {
  const all: Iterable<string> | AsyncIterable<Uint8Array | string> =
    typeof source === 'string' ? slicesOf(source) : source;
  let bytes = 0;
  const text = new Utf8Lines();
  for await (const piece of all) {
    if (typeof piece === 'string') text.checkText(piece);
    const buffer =
      typeof piece === 'string'
        ? Buffer.from(piece, 'utf8')
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    bytes += buffer.byteLength;
    if (bytes > maxBytes) throw new PayloadTooLargeError(maxBytes);
    text.check(buffer);
    hash.update(buffer);
    for (let at = 0; at < buffer.byteLength; at += PIECE) yield buffer.subarray(at, at + PIECE);
  }
  text.end();
}

/** A stock CSV read to its end: its rows without problems, the first problems found, and how many there were. */
export interface StockCsvScan {
  rows: StockCsvRow[];
  /** the file's SHA-256, which stands for it in idempotency checks */
  sha256: string;
  /** the first `listed` problems, in line order */
  problems: FieldError[];
  /** every problem found, listed or not */
  problemCount: number;
  /** data rows read (after the header) */
  records: number;
}

/**
 * Reads a stock CSV (header sku,warehouse,on_hand; reserved and available, as the export writes them, read past, and
 * any other column refused) as it arrives, a piece at a time, giving the event loop a turn every few thousand
 * rows. Every row is checked before anything is returned; problems name their line, and reading stops at
 * `maxErrors` of them. Also returns the file's SHA-256, which stands for it in idempotency checks.
 */
export async function readStockCsv(
  source: CsvSource,
  limits: StockCsvLimits = {},
): Promise<{ rows: StockCsvRow[]; sha256: string }> {
  const { rows, sha256 } = await scanStockCsv(source, {
    maxBytes: limits.maxBytes,
    listed: limits.maxErrors ?? DEFAULT_IMPORT_MAX_ERRORS,
    refuseAt: limits.maxErrors ?? DEFAULT_IMPORT_MAX_ERRORS,
  });
  return { rows, sha256 };
}

/**
 * Reads and checks a whole stock CSV as readStockCsv does, row by row with the same rules, but hands its row
 * problems back instead of refusing the file: the first `listed` of them, and their count (a dry run reports them
 * all). Given `refuseAt`, the file is refused at that many problems, unread beyond, or at the end if it has any (an
 * import). A file that cannot be read as a stock CSV at all (no header, a broken quote, too large, too many rows) is
 * always refused.
 */
export async function scanStockCsv(
  source: CsvSource,
  limits: { maxBytes?: number | undefined; listed: number; refuseAt?: number | undefined },
): Promise<StockCsvScan> {
  const hash = createHash('sha256');
  const problems: FieldError[] = [];
  let problemCount = 0;
  const seen = new SeenLines();
  const rows: StockCsvRow[] = [];
  let index: Record<(typeof STOCK_CSV_COLUMNS)[number], number> | undefined;
  let records = 0;
  const problem = (error: FieldError): void => {
    if (problems.length < limits.listed) problems.push(error);
    if (++problemCount === limits.refuseAt) throw new EnoughProblems();
  };
  const check = <S extends TSchema>(path: string, schema: S, value: unknown): Static<S> | undefined => {
    try {
      return parse(schema, value);
    } catch (error) {
      problem({
        path,
        message: error instanceof ValidationError ? (error.errors[0]?.message ?? 'invalid') : 'invalid',
      });
      return undefined;
    }
  };
  /** `line`: the file line the record starts on (header = 1), blank lines and line breaks in quoted cells counted */
  const readRecord = (record: string[], line: number): void => {
    if (!index) {
      const header = record;
      index = Object.fromEntries(STOCK_CSV_COLUMNS.map((column) => [column, header.indexOf(column)])) as Record<
        (typeof STOCK_CSV_COLUMNS)[number],
        number
      >;
      const columns = index;
      const missingColumns = STOCK_CSV_COLUMNS.filter((column) => columns[column] < 0);
      if (missingColumns.length > 0)
        throw ValidationError.field(
          '/csv/header',
          `missing column${missingColumns.length > 1 ? 's' : ''} ${missingColumns.join(', ')}`,
        );
      // the export's other columns are read past, so its file imports as it is; any other column would be ignored
      // without a word (a misspelt on_hand beside the real one, a column the operator thinks is read)
      const unknown = header.filter((column) => !(EXPORT_COLUMNS as readonly string[]).includes(column));
      const seen = new Set<string>();
      const repeated = header.find((column) => seen.size === seen.add(column).size);
      if (unknown.length > 0 || repeated !== undefined) {
        // a header is as long as the upload allows: the first few unknown names are told, and how many more
        const named = unknown.slice(0, 5).map((column) => (column === '' ? '(empty)' : column.slice(0, 64)));
        const more = unknown.length > named.length ? ` and ${unknown.length - named.length} more` : '';
        throw ValidationError.field(
          '/csv/header',
          unknown.length === 0
            ? `column ${String(repeated)} is named twice`
            : `unknown column${unknown.length > 1 ? 's' : ''} ${named.join(', ')}${more}: the columns are sku, warehouse, on_hand (reserved and available, as the export writes them, are read past)`,
        );
      }
      return;
    }
    const columns = index;
    if (++records > MAX_IMPORT_ROWS) throw ValidationError.field('/csv', `at most ${MAX_IMPORT_ROWS} rows per import`);
    const field = (name: (typeof STOCK_CSV_COLUMNS)[number]): string => record[columns[name]] ?? '';
    const sku = check(`/line/${line}/sku`, Sku, field('sku'));
    const warehouse = check(`/line/${line}/warehouse`, WarehouseCode, field('warehouse'));
    const raw = field('on_hand');
    const onHand = check(`/line/${line}/on_hand`, Count, /^-?\d+$/.test(raw) ? Number(raw) : raw);
    if (sku === undefined || warehouse === undefined || onHand === undefined) return;
    const key = `${sku}\u0000${warehouse}`;
    const earlier = seen.swap(key, line);
    if (earlier !== undefined)
      problem({ path: `/line/${line}`, message: `${sku} at ${warehouse} is already on line ${earlier}` });
    else rows.push({ line, sku, warehouse, on_hand: onHand });
  };

  try {
    await pipeline(
      piecesOf(source, limits.maxBytes ?? DEFAULT_IMPORT_MAX_BYTES, hash),
      // line feeds only: the parser counts the CR of a CRLF as a line of its own in some places (in a quoted cell,
      // after a line ended by LF alone), and problems name the lines of the file
      lineFeedsOnly,
      // info: the line a record ends on, less the line feeds in its cells, is the line it starts on
      csvParser({ bom: true, skip_empty_lines: true, trim: true, relax_column_count: false, info: true }),
      async (parsed: AsyncIterable<{ record: string[]; info: { lines: number } }>) => {
        let sinceTurn = 0;
        for await (const { record, info } of parsed) {
          readRecord(record, info.lines - record.reduce((feeds, cell) => feeds + lineFeeds(cell, cell.length), 0));
          if (++sinceTurn === ROWS_PER_TURN) {
            sinceTurn = 0;
            await turn();
          }
        }
      },
    );
  } catch (error) {
    if (error instanceof EnoughProblems) {
      throw new ValidationError([
        ...problems,
        { path: '/csv', message: `stopped at ${problemCount} problems; the rest of the file was not checked` },
      ]);
    }
    if (error instanceof ValidationError || error instanceof PayloadTooLargeError) throw error;
    // csv-parse's own errors (an unterminated quote, a row with another number of columns) stop the file
    throw ValidationError.field('/csv', error instanceof Error ? error.message : 'not a CSV file');
  }
  if (!index) throw ValidationError.field('/csv', 'the file is empty; expected a header sku,warehouse,on_hand');
  if (records === 0) throw ValidationError.field('/csv', 'no rows after the header');
  if (limits.refuseAt !== undefined && problemCount > 0) throw new ValidationError(problems);
  return { rows, sha256: hash.digest('hex'), problems, problemCount, records };
}

/**
 * Problems found after reading (unknown SKUs or warehouses): the first `max` of them and how many more (of `count`,
 * when only some of them were kept).
 */
export function tooMany(errors: FieldError[], max = DEFAULT_IMPORT_MAX_ERRORS, count = errors.length): ValidationError {
  const shown = errors.slice(0, max);
  if (count > shown.length) shown.push({ path: '/csv', message: `and ${count - shown.length} more problems` });
  return new ValidationError(shown);
}

/** The columns of a stock export, in order: the import reads the file back as it is. */
export const EXPORT_COLUMNS = [
  'sku',
  'warehouse',
  'on_hand',
  'reserved',
  'available',
] as const satisfies readonly (keyof Level)[];

/**
 * Levels as a CSV byte stream with a header; back-pressure reaches the database reads. Cells as they are, formulas
 * not escaped: the import reads this file back, and would take a leading ' as part of a SKU (the stock list's
 * exports are the ones written for a spreadsheet).
 */
export function stockCsv(levels: AsyncIterable<Level>): Readable {
  return Readable.from(levels).pipe(stringify({ header: true, columns: [...EXPORT_COLUMNS] }));
}

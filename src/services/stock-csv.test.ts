import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { readStockCsv } from './stock-csv.js';

/** The refusal's places and messages, or [] when the file is read. */
async function refused(source: Parameters<typeof readStockCsv>[0]): Promise<string[]> {
  try {
    await readStockCsv(source);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.errors.map((e) => `${e.path}: ${e.message}`);
  }
}

async function* piecesOf(...pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
  await Promise.resolve();
}

describe('reading a stock CSV as UTF-8', () => {
  it('reads a character that two pieces of the stream each hold a part of', async () => {
    const file = Buffer.from('sku,warehouse,on_hand\nTEE-É,AMS,1\n', 'utf8');
    const middle = file.indexOf(0xc3) + 1;
    const { rows } = await readStockCsv(piecesOf(file.subarray(0, middle), file.subarray(middle)));
    expect(rows).toEqual([{ line: 2, sku: 'TEE-É', warehouse: 'AMS', on_hand: 1 }]);
  });

  it('refuses bytes that are not UTF-8 at the line they are on, wherever the pieces are cut', async () => {
    const file = Buffer.concat([
      Buffer.from('sku,warehouse,on_hand\nA,AMS,1\nB\xff', 'latin1'),
      Buffer.from(',AMS,1\n'),
    ]);
    for (let cut = 0; cut <= file.length; cut++)
      expect(await refused(piecesOf(file.subarray(0, cut), file.subarray(cut)))).toEqual([
        '/line/3: not valid UTF-8: byte 0xFF at offset 31 of the file; save the file as UTF-8',
      ]);
  });

  it('refuses a file that stops in the middle of a character', async () => {
    expect(await refused(piecesOf(Buffer.from('sku,warehouse,on_hand\nA,AMS,1\n\xe2\x82', 'latin1')))).toEqual([
      '/line/3: not valid UTF-8: byte 0xE2 at offset 30 of the file; save the file as UTF-8',
    ]);
  });

  it('refuses a CSV given as text with half a surrogate pair, and reads whole pairs wherever the text is cut', async () => {
    expect(await refused('sku,warehouse,on_hand\nA\ud800,AMS,1\n')).toEqual([
      '/line/2: must be valid Unicode: it has half of a surrogate pair',
    ]);
    // a pair across the boundary of the pieces a text is read in (8 KiB), which must not be cut in half (in the
    // export's reserved column, which the import reads past)
    const head = 'sku,warehouse,on_hand,reserved\nA,AMS,1,';
    const text = `${head}${'x'.repeat(8 * 1024 - 1 - head.length)}\u{1F455}\n`;
    expect(text.charCodeAt(8 * 1024 - 1)).toBe(0xd83d);
    expect((await readStockCsv(text)).rows).toHaveLength(1);
  });
});

describe('naming the lines of a stock CSV', () => {
  it("names a row's line in the file: blank lines and line breaks in quoted cells count", async () => {
    const file = 'sku,warehouse,on_hand\n\nTEE-A,AMS,40\n\n"TEE\nB",AMS,1\nTEE-A,AMS,41\r\n\r\nTEE-C,AMS,x\n';
    expect(await refused(piecesOf(Buffer.from(file)))).toEqual([
      '/line/5/sku: must be stock keeping unit: 1-64 characters, no spaces, not . or ..',
      '/line/7: TEE-A at AMS is already on line 3',
      '/line/9/on_hand: must be integer',
    ]);
  });

  it('counts CRLF lines as one each, wherever the pieces are cut (a CR held over to the next piece)', async () => {
    const crlf = Buffer.from('\r\nsku,warehouse,on_hand\r\n\r\nTEE-A,AMS,4\r\n\r\nTEE-B,AMS,5\r\n');
    for (let cut = 0; cut <= crlf.length; cut++) {
      const { rows } = await readStockCsv(piecesOf(crlf.subarray(0, cut), crlf.subarray(cut)));
      expect(rows).toEqual([
        { line: 4, sku: 'TEE-A', warehouse: 'AMS', on_hand: 4 },
        { line: 6, sku: 'TEE-B', warehouse: 'AMS', on_hand: 5 },
      ]);
    }
  });
});

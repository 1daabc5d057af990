import { describe, expect, it } from 'vitest';
import { rawArguments, unreadableArguments } from './argv.js';

/** What Node makes of bytes that are not UTF-8: U+FFFD in their place. */
const lossy = (bytes: Buffer): string => bytes.toString('utf8');

describe('arguments that came as bytes that are not UTF-8', () => {
  const bad = Buffer.from([0x50, 0x4f, 0xff, 0xfe]);

  it('refuses one whose bytes are not UTF-8, naming it, the first bad byte and its offset', () => {
    const argv = ['po', 'create', '--reference', lossy(bad)];
    const refused = unreadableArguments(argv, () => argv.map((arg, i) => (i === 3 ? bad : Buffer.from(arg))));
    expect(refused?.errors).toEqual([
      {
        path: '/argv/3',
        message: '"PO\uFFFD\uFFFD" is not valid UTF-8: byte 0xFF at offset 2; give the text as UTF-8',
      },
    ]);
  });

  it('takes U+FFFD typed as such (its bytes are UTF-8), as the API takes it in a body', () => {
    const argv = ['po', 'create', '--reference', 'a\uFFFDb'];
    expect(unreadableArguments(argv, () => argv.map((arg) => Buffer.from(arg)))).toBeUndefined();
  });

  it("refuses U+FFFD where the bytes cannot be read, or are not the argument's: the two cannot be told apart", () => {
    const argv = ['stock', lossy(bad)];
    expect(unreadableArguments(argv, () => undefined)?.errors).toEqual([
      { path: '/argv/1', message: expect.stringContaining('holds U+FFFD') as unknown },
    ]);
    expect(unreadableArguments(argv, () => [Buffer.from('stock'), Buffer.from('other')])?.errors).toHaveLength(1);
  });

  it('reads no bytes for a command line without U+FFFD', () => {
    expect(
      unreadableArguments(['stock', 'TEE-M'], () => {
        throw new Error('read');
      }),
    ).toBeUndefined();
  });

  it("takes the command's own arguments from the end of the process's command line, empty ones too", () => {
    const cmdline = Buffer.concat([
      Buffer.from('node\0--enable-source-maps\0/x/bin/stockroom.js\0stock\0\0'),
      bad,
      Buffer.from('\0'),
    ]);
    expect(rawArguments(3, () => cmdline)).toEqual([Buffer.from('stock'), Buffer.from(''), bad]);
    expect(rawArguments(9, () => cmdline)).toBeUndefined();
    expect(
      rawArguments(1, () => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});

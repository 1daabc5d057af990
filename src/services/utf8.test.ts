import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidUtf8At } from './utf8.js';

const decoder = new TextDecoder('utf-8', { fatal: true });
const decodes = (bytes: Uint8Array): boolean => {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

describe('finding where bytes stop being UTF-8', () => {
  it('agrees with a strict decoder on any bytes, and everything before the place it names decodes', () => {
    // bytes near the edges of UTF-8's ranges, where a lenient check goes wrong, and plain ones between them
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(
        0x7f,
        0x80,
        0xbf,
        0xc0,
        0xc1,
        0xc2,
        0xdf,
        0xe0,
        0xed,
        0xef,
        0xf0,
        0xf4,
        0xf5,
        0xff,
        0x9f,
        0xa0,
        0x8f,
        0x90,
      ),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 12 }), (values) => {
        const bytes = Uint8Array.from(values);
        const at = invalidUtf8At(bytes);
        expect(at === undefined).toBe(decodes(bytes));
        if (at !== undefined) expect(decodes(bytes.subarray(0, at))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('lets any text written as UTF-8 through', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(invalidUtf8At(Buffer.from(text, 'utf8'))).toBeUndefined();
      }),
    );
  });

  it('names the first byte of a character the bytes stop in the middle of', () => {
    expect(invalidUtf8At(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
    expect(invalidUtf8At(Buffer.from([0x61, 0xe9, 0x62]))).toBe(1);
  });
});

import { isUtf8 } from 'node:buffer';

/**
 * Where UTF-8 bytes stop being well-formed (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF):
 * `invalidAt`, the offset where the first character that is not well-formed starts, if there is one; else
 * `tail`, how many bytes at the end begin a character the bytes stop in the middle of (0 when they end on a
 * character's end). Decoding such bytes as UTF-8 would put U+FFFD where they are, and store a text nobody sent.
 */
export function scanUtf8(bytes: Uint8Array): { invalidAt?: number; tail: number } {
  // nearly every body is well-formed: the native check finds that without a loop in JavaScript
  if (isUtf8(bytes)) return { tail: 0 };
  return scanFrom(bytes, wholeUpTo(bytes));
}

/**
 * Where to start looking: before the last character's lead byte when every byte before it is well-formed (a piece
 * of an upload that ends inside a character, as most pieces of a Cyrillic or Japanese file do, is checked natively
 * up to there), else at the start.
 */
function wholeUpTo(bytes: Uint8Array): number {
  for (let at = bytes.length - 1; at >= Math.max(0, bytes.length - 4); at--) {
    const byte = bytes[at] as number;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) return isUtf8(bytes.subarray(0, at)) ? at : 0;
  }
  return 0;
}

function scanFrom(bytes: Uint8Array, from: number): { invalidAt?: number; tail: number } {
  for (let at = from; at < bytes.length;) {
    const lead = bytes[at] as number;
    if (lead < 0x80) {
      at++;
      continue;
    }
    // the length of the character and the range its second byte must be in (the first byte alone allows too much)
    const [length, low, high] =
      lead >= 0xc2 && lead <= 0xdf
        ? [2, 0x80, 0xbf]
        : lead === 0xe0
          ? [3, 0xa0, 0xbf]
          : lead === 0xed
            ? [3, 0x80, 0x9f]
            : lead >= 0xe1 && lead <= 0xef
              ? [3, 0x80, 0xbf]
              : lead === 0xf0
                ? [4, 0x90, 0xbf]
                : lead >= 0xf1 && lead <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : lead === 0xf4
                    ? [4, 0x80, 0x8f]
                    : [0, 0, 0];
    if (length === 0) return { invalidAt: at, tail: 0 };
    for (let next = 1; next < length; next++) {
      const byte = bytes[at + next];
      if (byte === undefined) return { tail: next };
      if (next === 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xbf) return { invalidAt: at, tail: 0 };
    }
    at += length;
  }
  return { tail: 0 };
}

/** The offset of the first byte of `bytes` that is not well-formed UTF-8 (a character cut off at the end is not). */
export function invalidUtf8At(bytes: Uint8Array): number | undefined {
  const { invalidAt, tail } = scanUtf8(bytes);
  return invalidAt ?? (tail > 0 ? bytes.length - tail : undefined);
}

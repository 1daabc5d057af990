import { readFileSync } from 'node:fs';
import { ValidationError } from '../domain/errors.js';
import type { FieldError } from '../domain/errors.js';
import { invalidUtf8At } from '../services/utf8.js';

/** What Node puts in an argument where the bytes it was given are not UTF-8 (it decodes the command line lossily). */
const REPLACEMENT = '\uFFFD';

/**
 * The last `count` arguments of this process as the bytes the kernel passed them (Linux: /proc/self/cmdline, each
 * ended by a NUL): those are the command's own, after Node's path, its options and the script's. Undefined where
 * they cannot be read (another system, no /proc).
 */
export function rawArguments(
  count: number,
  read: () => Buffer = () => readFileSync('/proc/self/cmdline'),
): Buffer[] | undefined {
  let bytes: Buffer;
  try {
    bytes = read();
  } catch {
    return undefined;
  }
  const parts: Buffer[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = bytes.indexOf(0, start);
    parts.push(bytes.subarray(start, end === -1 ? bytes.length : end));
    start = end === -1 ? bytes.length : end + 1;
  }
  return parts.length < count ? undefined : parts.slice(parts.length - count);
}

/**
 * Refuses an argument that came as bytes that are not UTF-8, as the API refuses such a body: Node has already put
 * U+FFFD in their place, and a command would store a text nobody typed (a reference, a name, the ledger's reason).
 * Only an argument holding U+FFFD is looked at. Its bytes, where the system shows them (`raw`), tell U+FFFD typed as
 * such (valid UTF-8, taken as the API takes it) from one put in place of bad bytes; where they cannot be read, or do
 * not decode to the argument (so are not its bytes), the two cannot be told apart and the argument is refused: a
 * command asked again without U+FFFD costs less than a text in the append-only ledger that nobody wrote.
 * @param raw the arguments' bytes, asked only when an argument holds U+FFFD
 */
export function unreadableArguments(
  argv: readonly string[],
  raw: () => readonly Uint8Array[] | undefined,
): ValidationError | undefined {
  if (!argv.some((arg) => arg.includes(REPLACEMENT))) return undefined;
  const bytes = raw();
  const errors: FieldError[] = [];
  argv.forEach((arg, i) => {
    if (!arg.includes(REPLACEMENT)) return;
    const own = bytes?.[i];
    const shown = JSON.stringify(arg);
    if (own === undefined || Buffer.from(own).toString('utf8') !== arg) {
      errors.push({
        path: `/argv/${i}`,
        message: `${shown} holds U+FFFD, which stands in for bytes that are not valid UTF-8 (their own bytes cannot be read here to tell): give the text as UTF-8`,
      });
      return;
    }
    const at = invalidUtf8At(own);
    if (at === undefined) return;
    const byte = (own[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    errors.push({
      path: `/argv/${i}`,
      message: `${shown} is not valid UTF-8: byte 0x${byte} at offset ${at}; give the text as UTF-8`,
    });
  });
  return errors.length === 0 ? undefined : new ValidationError(errors);
}

import { ValidationError } from '../domain/errors.js';

/** What a refusal says of a member named twice, at its pointer. */
const DUPLICATE_MEMBER = 'is named more than once in one object: which one is meant is not guessed';

/** Refuses a JSON text (already parsed) that names a member twice in one object, at that member's pointer. */
export function refuseDuplicateMembers(text: string): void {
  const twice = duplicateKeyPointer(text);
  if (twice !== undefined) throw ValidationError.field(twice, DUPLICATE_MEMBER);
}

/**
 * Where a JSON text names a member twice in one object, as a JSON pointer (RFC 6901), or undefined. JSON.parse keeps
 * the last of them without a word, so `{"delta": 5, "delta": -1}` would apply -1 and `{"order_ref": "a",
 * "order_ref": "b"}` reserve for b: the body is refused instead, naming the member. Names are compared as parsed
 * (`"a"` and `"\u0061"` are one name).
 *
 * Run on text JSON.parse has already taken, so it reads tokens without checking them: one pass, no allocation but
 * a set of names per object open at once.
 */
export function duplicateKeyPointer(text: string): string | undefined {
  // the open objects and arrays, innermost last: an object's names so far and its current one, an array's index
  const open: ({ names: Set<string>; name: string; nameNext: boolean } | { index: number })[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = open.at(-1);
      if (top !== undefined && 'names' in top && top.nameNext) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.names.has(name)) return pointerOf(open, name);
        top.names.add(name);
        top.name = name;
        top.nameNext = false;
      }
      i = end;
    } else if (c === OPEN_BRACE) open.push({ names: new Set(), name: '', nameNext: true });
    else if (c === OPEN_BRACKET) open.push({ index: 0 });
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) open.pop();
    else if (c === COMMA) {
      const top = open.at(-1);
      if (top === undefined) continue;
      if ('names' in top) top.nameNext = true;
      else top.index += 1;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The index of the quote that ends the string whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i += 1;
    else if (c === QUOTE) return i;
  }
  return text.length;
}

/** The pointer of member `name` of the innermost open object. */
function pointerOf(open: readonly ({ name: string } | { index: number })[], name: string): string {
  const steps = open.slice(0, -1).map((frame) => ('name' in frame ? frame.name : String(frame.index)));
  return [...steps, name].map((step) => `/${step.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { refuseUnstorableText } from './schemas.js';

/** The places refuseUnstorableText names for a value, or [] when it lets the value through. */
function refused(value: unknown): string[] {
  try {
    refuseUnstorableText(value, '/body');
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.errors.map((e) => `${e.path}: ${e.message}`);
  }
}

const HALF_PAIR = 'must be valid Unicode: it has half of a surrogate pair (e.g. \\ud800)';

/** Nested `depth` levels deep: arrays inside arrays around a string. */
const nested = (depth: number): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('refuseUnstorableText', () => {
  it('lets through a checkout body, numbers, booleans, nulls and empty containers', () => {
    expect(refused({ order_ref: 'order-1', lines: [{ sku: 'TEE-M', qty: 2 }], ttl_seconds: 900 })).toEqual([]);
    expect(refused({ a: null, b: true, c: 1.5, d: [], e: {}, 'ключ ✓': 'wert 😀' })).toEqual([]);
    expect(refused('plain')).toEqual([]);
  });

  it('names every place with a NUL or a lone surrogate, in values and in keys', () => {
    expect(
      refused({ lines: [{ sku: 'ok' }, { sku: 'a\u0000b' }], attributes: { 'co\ud800lour': 'red', fine: '\udc00' } }),
    ).toEqual(
      expect.arrayContaining([
        '/body/lines/1/sku: must not contain a NUL character (\\u0000)',
        `/body/attributes/co\\ud800lour: the name of this field ${HALF_PAIR}`,
        `/body/attributes/fine: ${HALF_PAIR}`,
      ]),
    );
  });

  it('lets a whole surrogate pair through and refuses half of one at either end of a string', () => {
    expect(refused({ emoji: '\ud83d\ude00' })).toEqual([]);
    expect(refused({ start: '\ude00x' })).toHaveLength(1);
    expect(refused({ end: 'x\ud83d' })).toHaveLength(1);
  });

  it('takes 32 levels of nesting and refuses the 33rd, naming where, without overflowing the stack at 100,000', () => {
    expect(refused(nested(32))).toEqual([]);
    expect(refused(nested(33))).toEqual([`/body${'/0'.repeat(32)}: nested too deep (more than 32 levels)`]);
    expect(refused(nested(100_000))).toHaveLength(1);
  });

  it('judges only own keys: what an object inherits is not part of the input', () => {
    const value = Object.create({ 'in\u0000herited': 'x' }) as Record<string, unknown>;
    value.own = 'fine';
    expect(refused(value)).toEqual([]);
  });
});

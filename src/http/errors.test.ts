import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InvalidSignatureError, UpstreamError } from '../domain/errors.js';
import { toProblem } from './errors.js';

describe('problem documents', () => {
  it("take their status and title from the code's one entry, for every code", () => {
    expect(toProblem(new InvalidSignatureError('the signature is too old'))).toEqual({
      type: 'urn:stockroom:problem:invalid_signature',
      title: ERROR_CODES.invalid_signature.title,
      status: 401,
      detail: 'the signature is too old',
      code: 'invalid_signature',
    });
    expect(toProblem(new UpstreamError('wms answered 500'))).toMatchObject({ status: 502, code: 'upstream_failed' });
    // every code has a title of its own, not the code itself standing in for one
    expect(Object.entries(ERROR_CODES).filter(([code, entry]) => entry.title === code || !entry.title)).toEqual([]);
  });

  it('map database failures by their meaning to the caller, and anything unknown to a 500 that says nothing', () => {
    expect(toProblem(Object.assign(new Error('integer out of range'), { code: '22003' }))).toMatchObject({
      status: 409,
      code: 'quantity_limit',
    });
    expect(toProblem(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({
      status: 503,
      code: 'unavailable',
      detail: 'the database cannot be reached; try again',
    });
    expect(toProblem(new TypeError('x is undefined'))).toMatchObject({
      status: 500,
      code: 'internal_error',
      detail: 'something went wrong on our side; it has been logged',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../domain/errors.js';
import type { ErrorCode } from '../domain/errors.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';

describe('the exit code of a command that ended with an error', () => {
  it('follows the HTTP status of its code, never its class', () => {
    const byCode = (code: ErrorCode) => exitCodeForStatus(ERROR_CODES[code].status);
    expect(
      Object.fromEntries(
        (['validation_failed', 'payload_too_large', 'unauthorized', 'forbidden'] as const).map((code) => [
          code,
          byCode(code),
        ]),
      ),
    ).toEqual({ validation_failed: 2, payload_too_large: 2, unauthorized: 2, forbidden: 2 });
    expect(
      (['unknown_sku', 'not_found', 'insufficient_stock', 'invalid_transition', 'idempotency_conflict'] as const).map(
        byCode,
      ),
    ).toEqual([1, 1, 1, 1, 1]);
    expect((['unavailable', 'at_capacity', 'too_many_requests'] as const).map(byCode)).toEqual([4, 4, 4]);
    expect((['internal_error', 'listen_failed', 'schema_behind', 'upstream_failed'] as const).map(byCode)).toEqual([
      3, 3, 3, 3,
    ]);
  });

  it('is never "ok" for any code there is', () => {
    const codes = Object.keys(ERROR_CODES) as ErrorCode[];
    expect(codes.filter((code) => exitCodeForStatus(ERROR_CODES[code].status) === EXIT.ok)).toEqual([]);
  });
});

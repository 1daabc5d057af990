import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../domain/errors.js';
import { asStockroomError } from './failures.js';

describe('asStockroomError', () => {
  it('answers an unreachable database as unavailable, keeping the failure underneath as its cause', () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const answer = asStockroomError(lost);
    expect(answer).toBeInstanceOf(UnavailableError);
    expect(answer?.cause).toBe(lost);
    expect(answer?.retryAfterSeconds).toBe(1);
  });

  it('answers a deadlock past its retries as unavailable, with the deadlock as its cause', () => {
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const answer = asStockroomError(deadlock);
    expect(answer?.code).toBe('unavailable');
    expect(answer?.cause).toBe(deadlock);
  });

  it('leaves a bug alone', () => {
    expect(asStockroomError(new TypeError('x is undefined'))).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { InsufficientStockError, ListenError } from './errors.js';

describe('StockroomError', () => {
  it('is an answer without a stack trace of its own', () => {
    const refused = new InsufficientStockError([{ sku: 'TEE', requested: 2, available: 1 }]);
    expect(refused.stack).toBe(`Error: ${refused.message}`);
    expect(refused.code).toBe('insufficient_stock');
    expect(refused.status).toBe(409);
  });

  it('keeps the stack of the failure underneath it in its cause', () => {
    const cause = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const error = new ListenError('127.0.0.1', 8080, cause);
    expect(error.stack).not.toMatch(/\n\s+at /);
    expect(error.cause).toBe(cause);
    expect(cause.stack).toMatch(/\n\s+at /);
  });

  it('leaves the stack traces of other errors as they were', () => {
    const before = Error.stackTraceLimit;
    new InsufficientStockError([{ sku: 'TEE', requested: 2, available: 1 }]);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('a bug').stack).toMatch(/\n\s+at /);
  });
});

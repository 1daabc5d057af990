import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { envFlag } from './open.js';

describe('on/off settings from the environment', () => {
  it('read 1/0, true/false and on/off in any case, and unset or empty as not given', () => {
    expect(['1', 'true', 'ON'].map((v) => envFlag({ X: v }, 'X'))).toEqual([true, true, true]);
    expect(['0', 'False', 'off'].map((v) => envFlag({ X: v }, 'X'))).toEqual([false, false, false]);
    expect(envFlag({}, 'X')).toBeUndefined();
    expect(envFlag({ X: '' }, 'X')).toBeUndefined();
  });

  it('refuse anything else, naming the variable and the value', () => {
    expect(() => envFlag({ STOCKROOM_PG_PREPARE: 'maybe' }, 'STOCKROOM_PG_PREPARE')).toThrow(ValidationError);
    expect(() => envFlag({ STOCKROOM_PG_PREPARE: 'maybe' }, 'STOCKROOM_PG_PREPARE')).toThrow(
      /must be one of 1, 0, true, false, on, off \(not "maybe"\)/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { ENV_INT_MAX, envFlag, envInt } from './open.js';

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

describe('whole-number settings from the environment', () => {
  it('read decimal digits from min to max, and unset or empty as the default', () => {
    expect(envInt({ X: '0' }, 'X', 7, 0)).toBe(0);
    expect(envInt({ X: '250' }, 'X', 7, 1)).toBe(250);
    expect(envInt({ X: String(ENV_INT_MAX) }, 'X', 7, 1)).toBe(ENV_INT_MAX);
    expect(envInt({ X: '36500' }, 'X', 7, 0, 36_500)).toBe(36_500);
    expect(envInt({}, 'X', 7, 1)).toBe(7);
    expect(envInt({ X: '' }, 'X', 7, 1)).toBe(7);
  });

  it('refuse what JavaScript would read as some other number, and anything out of range, by name', () => {
    const refused = (value: string, min = 1, max?: number): string => {
      try {
        envInt({ STOCKROOM_SWEEP_MS: value }, 'STOCKROOM_SWEEP_MS', 5000, min, max);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).message;
      }
      throw new Error(`${value} was taken`);
    };
    // 1e300 passes Number.isInteger, and a timer that long fires at once; 0x10 reads as 16
    for (const value of [
      '1e300',
      '1e3',
      '0x10',
      '0b1',
      '5.0',
      ' 5',
      '5 ',
      '+5',
      '-1',
      'soon',
      'Infinity',
      'NaN',
      '5\u0000',
    ])
      expect(refused(value)).toContain(`must be a whole number from 1 to ${ENV_INT_MAX} (not "${value}")`);
    expect(refused(String(ENV_INT_MAX + 1))).toContain('from 1 to 2147483647');
    expect(refused('99999999999999999999')).toContain('from 1 to 2147483647');
    expect(refused('0')).toContain('from 1 to');
    expect(refused('36501', 0, 36_500)).toContain('must be a whole number from 0 to 36500 (not "36501")');
  });
});

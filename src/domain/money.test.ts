import { describe, expect, it } from 'vitest';
import { MoneyOverflowError, ValidationError } from './errors.js';
import {
  MAX_AMOUNT,
  MAX_UNIT_COST,
  amountFromText,
  averageOf,
  checkedAmount,
  currencyCode,
  formatMoney,
  minorDigits,
  multiply,
  parseMoney,
  sum,
} from './money.js';

describe('currencies', () => {
  it('knows ISO 4217 codes and their minor units', () => {
    expect(currencyCode('EUR')).toBe('EUR');
    expect(minorDigits('USD')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
  });

  it('refuses what is not an upper-case ISO code', () => {
    for (const code of ['usd', 'US', 'XXXX', 'ABC', '']) expect(() => currencyCode(code)).toThrow(ValidationError);
  });
});

describe('parsing and writing amounts', () => {
  it('reads major units as minor units of the currency', () => {
    expect(parseMoney('12.50', 'USD')).toBe(1250);
    expect(parseMoney('12.5', 'USD')).toBe(1250);
    expect(parseMoney('12', 'USD')).toBe(1200);
    expect(parseMoney(' 0.07 ', 'EUR')).toBe(7);
    expect(parseMoney('1250', 'JPY')).toBe(1250);
    expect(parseMoney('1.005', 'KWD')).toBe(1005);
  });

  it('refuses more decimals than the currency has, signs and words', () => {
    expect(() => parseMoney('12.505', 'USD')).toThrow(/USD has 2 decimals/);
    expect(() => parseMoney('12.5', 'JPY')).toThrow(ValidationError);
    for (const text of ['-1', '1e3', '12,50', '', '.5', 'ten'])
      expect(() => parseMoney(text, 'USD')).toThrow(ValidationError);
  });

  it('refuses an amount past the limit instead of rounding it', () => {
    expect(parseMoney('10000000.00', 'USD', MAX_UNIT_COST)).toBe(MAX_UNIT_COST);
    expect(() => parseMoney('10000000.01', 'USD', MAX_UNIT_COST)).toThrow(MoneyOverflowError);
    expect(() => parseMoney('9999999999999999', 'USD')).toThrow(MoneyOverflowError);
  });

  it('writes minor units with the currency decimals', () => {
    expect(formatMoney(1250, 'USD')).toBe('12.50');
    expect(formatMoney(7, 'USD')).toBe('0.07');
    expect(formatMoney(0, 'EUR')).toBe('0.00');
    expect(formatMoney(-1250, 'USD')).toBe('-12.50');
    expect(formatMoney(1250, 'JPY')).toBe('1250');
    expect(formatMoney(1005, 'KWD')).toBe('1.005');
  });

  it('checks amounts given in minor units', () => {
    expect(checkedAmount(1250, 'unit cost', MAX_UNIT_COST)).toBe(1250);
    expect(() => checkedAmount(12.5, 'unit cost')).toThrow(ValidationError);
    expect(() => checkedAmount(-1, 'unit cost')).toThrow(ValidationError);
    expect(() => checkedAmount(MAX_UNIT_COST + 1, 'unit cost', MAX_UNIT_COST)).toThrow(MoneyOverflowError);
  });
});

describe('arithmetic', () => {
  it('reads sums written as text, refusing one no number holds exactly', () => {
    expect(amountFromText('9007199254740991')).toBe(MAX_AMOUNT);
    expect(amountFromText('-12')).toBe(-12);
    expect(() => amountFromText('9007199254740992')).toThrow(MoneyOverflowError);
  });

  it('multiplies and sums exactly, refusing overflow', () => {
    expect(multiply(MAX_UNIT_COST, 2_000_000)).toBe(2_000_000_000_000_000);
    expect(() => multiply(MAX_UNIT_COST, 2_147_483_647)).toThrow(MoneyOverflowError);
    expect(sum([1, 2, 3])).toBe(6);
    expect(() => sum([MAX_AMOUNT, 1])).toThrow(MoneyOverflowError);
  });

  it('averages to whole minor units, half away from zero (as PostgreSQL rounds numerics)', () => {
    expect(averageOf(1000, 10)).toBe(100);
    expect(averageOf(1005, 10)).toBe(101); // 100.5 rounds up
    expect(averageOf(1004, 10)).toBe(100);
    expect(averageOf(2, 4)).toBe(1); // 0.5
    expect(averageOf(1, 3)).toBe(0);
    expect(averageOf(-1005, 10)).toBe(-101);
    expect(averageOf(5, 0)).toBeNull();
    // 9007199254740991 / 3 = 3002399751580330.33: exact though 2 x total passes 2^53
    expect(averageOf(MAX_AMOUNT, 3)).toBe(3_002_399_751_580_330);
  });
});

import { describe, expect, it } from 'vitest';
import { MoneyOverflowError, ValidationError } from './errors.js';
import { MAX_AMOUNT } from './money.js';
import { averageCost, totalOf, valuationCutoff, valuationGroup } from './valuation.js';

describe('valuation cutoff', () => {
  const now = new Date('2026-01-16T10:00:00.000Z');

  it('takes a date as the end of that UTC day', () => {
    expect(valuationCutoff('2026-01-15', now)).toEqual({
      asOf: new Date('2026-01-15T23:59:59.999Z'),
      until: new Date('2026-01-16T00:00:00.000Z'),
    });
  });

  it('takes a timestamp as that instant, and nothing as now', () => {
    expect(valuationCutoff('2026-01-15T12:30:00+01:00', now)).toEqual({
      asOf: new Date('2026-01-15T11:30:00.000Z'),
      until: new Date('2026-01-15T11:30:00.001Z'),
    });
    expect(valuationCutoff(undefined, now).asOf).toEqual(now);
  });

  it('ends the last day of 9999 a millisecond short of the year 10000, which the embedded driver cannot send', () => {
    expect(valuationCutoff('9999-12-31', now)).toEqual({
      asOf: new Date('9999-12-31T23:59:59.999Z'),
      until: new Date('9999-12-31T23:59:59.999Z'),
    });
  });

  it('refuses what is neither', () => {
    expect(() => valuationCutoff('yesterday', now)).toThrow(ValidationError);
  });
});

describe('valuation groups and totals', () => {
  it('groups by warehouse unless told, and refuses an unknown grouping', () => {
    expect(valuationGroup(undefined)).toBe('warehouse');
    expect(valuationGroup('category')).toBe('category');
    expect(() => valuationGroup('colour')).toThrow(/warehouse, category, supplier, sku/);
  });

  it('averages over costed units only', () => {
    expect(averageCost({ on_hand: 16, value: 20700, uncosted_units: 0 })).toBe(1294);
    expect(averageCost({ on_hand: 12, value: 2000, uncosted_units: 2 })).toBe(200);
    expect(averageCost({ on_hand: 5, value: 0, uncosted_units: 5 })).toBeNull();
  });

  it('adds groups up, refusing a total money cannot hold', () => {
    expect(
      totalOf([
        { on_hand: 10, value: 1000, uncosted_units: 0 },
        { on_hand: 4, value: 250, uncosted_units: 1 },
      ]),
    ).toEqual({ on_hand: 14, value: 1250, uncosted_units: 1 });
    expect(() =>
      totalOf([
        { on_hand: 1, value: MAX_AMOUNT, uncosted_units: 0 },
        { on_hand: 1, value: 1, uncosted_units: 0 },
      ]),
    ).toThrow(MoneyOverflowError);
  });
});

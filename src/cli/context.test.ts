import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { allocationFromEnv } from './context.js';

describe('STOCKROOM_ALLOCATION', () => {
  it('is priority unless set, and any strategy by name', () => {
    expect(allocationFromEnv({})).toBe('priority');
    expect(allocationFromEnv({ STOCKROOM_ALLOCATION: '' })).toBe('priority');
    expect(allocationFromEnv({ STOCKROOM_ALLOCATION: ' fewest_shipments ' })).toBe('fewest_shipments');
  });

  it('refuses a name that is no strategy, naming the setting', () => {
    expect(() => allocationFromEnv({ STOCKROOM_ALLOCATION: 'closest' })).toThrow(ValidationError);
    expect(() => allocationFromEnv({ STOCKROOM_ALLOCATION: 'closest' })).toThrow(/priority, most_available/);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from './errors.js';
import { PO_STATUSES, daysUntil, expectedDateFrom, nextPoStatus } from './purchasing.js';
import type { PoAction, PoStatus } from './purchasing.js';

describe('purchase order transitions', () => {
  const valid: Record<string, PoStatus> = {
    'DRAFT send': 'SENT',
    'SENT confirm': 'CONFIRMED',
    'CONFIRMED receive': 'PARTIAL',
    'PARTIAL receive': 'PARTIAL',
    'DRAFT cancel': 'CANCELLED',
    'SENT cancel': 'CANCELLED',
    'CONFIRMED cancel': 'CANCELLED',
    'PARTIAL cancel': 'CANCELLED',
  };

  it('allow only the drawn ones, and refuse every other pair of status and action', () => {
    for (const status of PO_STATUSES) {
      for (const action of ['send', 'confirm', 'receive', 'cancel'] as PoAction[]) {
        const expected = valid[`${status} ${action}`];
        if (expected) expect(nextPoStatus(status, action)).toBe(expected);
        else expect(() => nextPoStatus(status, action), `${status} ${action}`).toThrow(InvalidTransitionError);
      }
    }
  });

  it('close an order when a receipt leaves nothing outstanding', () => {
    expect(nextPoStatus('CONFIRMED', 'receive', true)).toBe('RECEIVED');
    expect(nextPoStatus('PARTIAL', 'receive', true)).toBe('RECEIVED');
    expect(() => nextPoStatus('RECEIVED', 'receive', true)).toThrow('cannot receive a purchase order that is received');
  });
});

describe('dates', () => {
  it('count whole UTC days', () => {
    const today = new Date('2026-03-30T22:15:00Z');
    expect(expectedDateFrom(today, 5)).toBe('2026-04-04');
    expect(expectedDateFrom(today, null)).toBeNull();
    expect(daysUntil(today, '2026-04-04')).toBe(5);
    expect(daysUntil(today, '2026-03-28')).toBe(-2);
  });
});

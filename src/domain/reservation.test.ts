import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, ValidationError } from './errors.js';
import { RESERVATION_STATUSES, isDue, nextStatus, planFulfilment } from './reservation.js';
import type { ReservationAction, ReservationStatus } from './reservation.js';

describe('nextStatus', () => {
  const allowed: Record<ReservationStatus, Partial<Record<ReservationAction, ReservationStatus>>> = {
    pending: { commit: 'committed', fulfil: 'fulfilled', release: 'released', expire: 'expired' },
    committed: { commit: 'committed', fulfil: 'fulfilled', release: 'released' },
    partially_fulfilled: { fulfil: 'fulfilled', release: 'released' },
    fulfilled: {},
    released: {},
    expired: {},
  };

  for (const from of RESERVATION_STATUSES) {
    for (const action of ['commit', 'fulfil', 'release', 'expire'] as const) {
      const to = allowed[from][action];
      it(`${action} from ${from} ${to ? `gives ${to}` : 'is refused'}`, () => {
        if (to) expect(nextStatus(from, action, true)).toBe(to);
        else expect(() => nextStatus(from, action, true)).toThrow(InvalidTransitionError);
      });
    }
  }

  it('leaves a reservation partially fulfilled while something is still held', () => {
    expect(nextStatus('committed', 'fulfil', false)).toBe('partially_fulfilled');
    expect(nextStatus('partially_fulfilled', 'fulfil', false)).toBe('partially_fulfilled');
  });
});

describe('isDue', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  it('is due at and after the deadline, only while pending', () => {
    expect(isDue({ status: 'pending', expires_at: '2026-01-01T12:00:00Z' }, now)).toBe(true);
    expect(isDue({ status: 'pending', expires_at: '2026-01-01T12:00:01Z' }, now)).toBe(false);
    expect(isDue({ status: 'committed', expires_at: null }, now)).toBe(false);
  });
});

describe('planFulfilment', () => {
  const lines = [
    { line_no: 1, sku: 'A', warehouse: 'W1', remaining: 3 },
    { line_no: 2, sku: 'A', warehouse: 'W2', remaining: 2 },
    { line_no: 3, sku: 'B', warehouse: 'W1', remaining: 1 },
    { line_no: 4, sku: 'C', warehouse: 'W1', remaining: 0 },
  ];

  it('ships everything still held when no lines are given', () => {
    expect(planFulfilment(lines)).toEqual([
      { line_no: 1, qty: 3 },
      { line_no: 2, qty: 2 },
      { line_no: 3, qty: 1 },
    ]);
  });

  it('takes a split SKU from its lines in order, or from the warehouse named', () => {
    expect(planFulfilment(lines, [{ sku: 'A', qty: 4 }])).toEqual([
      { line_no: 1, qty: 3 },
      { line_no: 2, qty: 1 },
    ]);
    expect(planFulfilment(lines, [{ sku: 'A', qty: 2, warehouse: 'W2' }])).toEqual([{ line_no: 2, qty: 2 }]);
  });

  it('refuses more than is left, and SKUs not on the reservation', () => {
    expect(() => planFulfilment(lines, [{ sku: 'A', qty: 6 }])).toThrow(/6 exceeds the 5 units of A left/);
    expect(() => planFulfilment(lines, [{ sku: 'Z', qty: 1 }])).toThrow(ValidationError);
  });

  it('refuses a line with nothing left as a conflict with its state, not as a malformed request', () => {
    expect(() => planFulfilment(lines, [{ sku: 'C', qty: 1 }])).toThrow(InvalidTransitionError);
    expect(() => planFulfilment(lines, [{ sku: 'C', qty: 1 }])).toThrow('cannot fulfil a line of C that is settled');
  });

  it('counts two request lines of one SKU against the same remainder', () => {
    expect(() =>
      planFulfilment(lines, [
        { sku: 'B', qty: 1 },
        { sku: 'B', qty: 1 },
      ]),
    ).toThrow(/exceeds the 0 units of B/);
  });
});

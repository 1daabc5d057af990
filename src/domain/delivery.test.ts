import { describe, expect, it } from 'vitest';
import { alertHeadline } from './alerts.js';
import { headline } from './delivery.js';

describe('messages', () => {
  it('say what crossed, where, and how many are left', () => {
    expect(alertHeadline({ type: 'low_stock', sku: 'TEE-M', warehouse: 'BER', available: 3, threshold: 5 })).toBe(
      'Low stock: TEE-M at BER, 3 available (threshold 5)',
    );
    expect(alertHeadline({ type: 'out_of_stock', sku: 'TEE-M', warehouse: null, available: 0, threshold: 5 })).toBe(
      'Out of stock: TEE-M across all warehouses, 0 available',
    );
    const shortfall = {
      id: '9',
      type: 'stock.shortfall' as const,
      created_at: '',
      data: { sku: 'TEE-M', warehouse: 'BER', on_hand: 1, reserved: 3, shortfall: 2 },
    };
    expect(headline(shortfall)).toBe('Shortfall: TEE-M at BER has 1 on hand for 3 promised (2 short)');
  });

  it('tell a level change by the numbers that moved, and a reservation change by its order and status', () => {
    const changed = {
      id: '10',
      type: 'stock.changed' as const,
      created_at: '',
      data: {
        sku: 'TEE-M',
        warehouse: 'BER',
        before: { on_hand: 10, reserved: 2, available: 8 },
        after: { on_hand: 10, reserved: 3, available: 7 },
        movement: { type: 'reserve' },
      },
    };
    expect(headline(changed)).toBe('Stock: TEE-M at BER, reserved 2 → 3, available 8 → 7 (reserve)');
    expect(headline({ ...changed, data: { ...changed.data, movement: null } })).toBe(
      'Stock: TEE-M at BER, reserved 2 → 3, available 8 → 7',
    );
    const committed = {
      id: '11',
      type: 'reservation.committed' as const,
      created_at: '',
      data: { id: 'r-1', order_ref: 'web-1', status: 'committed' },
    };
    expect(headline(committed)).toBe('Reservation web-1 committed: now committed (r-1)');
  });
});

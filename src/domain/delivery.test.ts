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
});

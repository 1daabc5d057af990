import { describe, expect, it } from 'vitest';
import { alertHeadline } from './alerts.js';
import { retryDelayMs } from './backoff.js';
import { headline, signWebhook, verifyWebhook } from './delivery.js';

describe('retry delays', () => {
  it('double from the base up to the cap, the upper half jittered', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(30, 1000, 60_000, 0.5)).toBe(45_000);
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"7","type":"low_stock"}';
  const header = signWebhook('s3cret', body, 1_700_000_000);

  it('verify for the same secret, body and a fresh timestamp', () => {
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook('s3cret', body, header, 1_700_000_100)).toBe(true);
  });

  it('refuse another body, another secret, a stale or future timestamp, and a moved timestamp', () => {
    expect(verifyWebhook('s3cret', `${body} `, header, 1_700_000_000)).toBe(false);
    expect(verifyWebhook('other', body, header, 1_700_000_000)).toBe(false);
    expect(verifyWebhook('s3cret', body, header, 1_700_000_301)).toBe(false);
    expect(verifyWebhook('s3cret', body, header, 1_699_999_699)).toBe(false);
    expect(verifyWebhook('s3cret', body, header.replace('t=1700000000', 't=1700000200'), 1_700_000_200)).toBe(false);
    expect(verifyWebhook('s3cret', body, 'garbage', 1_700_000_000)).toBe(false);
  });
});

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

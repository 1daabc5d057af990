import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './signature.js';

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

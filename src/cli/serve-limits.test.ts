import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { serveLimits } from './serve-limits.js';

describe('STOCKROOM_TRUST_PROXY', () => {
  const proxies = (value: string | undefined) =>
    serveLimits(value === undefined ? {} : { STOCKROOM_TRUST_PROXY: value }, 15_000).trustProxy;

  it('takes addresses and CIDR ranges of both families, and trusts no one when unset', () => {
    expect(proxies(undefined)).toBeUndefined();
    expect(proxies(' 10.0.0.0/8, 127.0.0.1 ,::1, fd00::/8')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  });

  it('refuses "trust everyone" and anything else that is not an address or a range, naming it', () => {
    for (const value of ['true', '*', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', 'proxy.local', '10.0.0.1,']) {
      expect(() => proxies(value)).toThrow(ValidationError);
    }
    expect(() => proxies('10.0.0.1, uplink')).toThrow(/not "uplink"/);
  });
});

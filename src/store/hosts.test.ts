import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/errors.js';
import { needsPrimarySearch, parseServerList } from './hosts.js';

describe('the servers of a multi-host DATABASE_URL, as libpq reads them', () => {
  it('gives one URL per host, in the order given, each without target_session_attrs', () => {
    const servers = parseServerList(
      'postgres://app:s3cret@db1:5432,db2:5433/shop?target_session_attrs=read-write&sslmode=disable',
      '/env/DATABASE_URL',
    );
    expect(servers).toEqual({
      urls: [
        'postgres://app:s3cret@db1:5432/shop?sslmode=disable',
        'postgres://app:s3cret@db2:5433/shop?sslmode=disable',
      ],
      target: 'read-write',
    });
    expect(needsPrimarySearch(servers)).toBe(true);
  });

  it('gives a host without a port the last port in the list, or 5432, and keeps IPv6 brackets', () => {
    expect(parseServerList('postgresql://db1,db2:6000/shop', 'x').urls).toEqual([
      'postgresql://db1:6000/shop',
      'postgresql://db2:6000/shop',
    ]);
    expect(parseServerList('postgres://[::1],db2/shop', 'x').urls).toEqual([
      'postgres://[::1]:5432/shop',
      'postgres://db2:5432/shop',
    ]);
  });

  it('leaves a plain one-host URL as it is, with no search for a primary', () => {
    const servers = parseServerList('postgres://app@db1:5432/shop?application_name=x', 'x');
    expect(servers).toEqual({ urls: ['postgres://app@db1:5432/shop?application_name=x'], target: 'any' });
    expect(needsPrimarySearch(servers)).toBe(false);
    expect(needsPrimarySearch(parseServerList('postgres://db1/shop?target_session_attrs=primary', 'x'))).toBe(true);
  });

  it('refuses a read-only target or an empty host, naming the setting and never the URL', () => {
    for (const url of [
      'postgres://app:s3cret@db1,db2/shop?target_session_attrs=standby',
      'postgres://app:s3cret@db1,,db2/shop',
    ]) {
      let refusal: unknown;
      try {
        parseServerList(url, '/env/DATABASE_URL');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(ValidationError);
      expect(JSON.stringify((refusal as ValidationError).extra)).toContain('/env/DATABASE_URL');
      expect((refusal as Error).message + JSON.stringify((refusal as ValidationError).extra)).not.toContain('s3cret');
    }
  });
});

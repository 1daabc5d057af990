import { describe, expect, it } from 'vitest';
import { lagOf, lsnBytes, lsnReached, replicaName } from './replicas.js';

const at = (seconds: number, lsn: string) => ({ at: seconds * 1000, lsn: lsnBytes(lsn) });

describe('how far behind a replica is', () => {
  it('reads WAL positions as bytes, past 2^32', () => {
    expect(lsnBytes('0/16B3748')).toBe(0x16b3748n);
    expect(lsnBytes('1A/0')).toBe(0x1an << 32n);
  });

  it('is 0 behind an idle primary, however old its last commit', () => {
    // the last commit an hour ago: the replay timestamp alone would call this replica an hour behind
    expect(lagOf(lsnBytes('0/3000000'), [at(100, '0/3000000')], 100_500, 3_600_000)).toBe(0);
  });

  it('is behind since the first sample past what it replayed, not since its last commit', () => {
    const samples = [at(100, '0/3000000'), at(101, '0/3000100'), at(102, '0/3000200')];
    // replayed up to the first sample: behind since the second, 1.5 s at 102.5
    expect(lagOf(lsnBytes('0/3000000'), samples, 102_500, 3_600_000)).toBe(1500);
    // a write after an idle hour, caught up a moment after the check: no more than the replay timestamp says
    expect(lagOf(lsnBytes('0/3000000'), samples, 102_500, 20)).toBe(20);
  });

  it('is as far behind as its last replayed commit when it lacks even the oldest sample (a first check, a stalled process)', () => {
    // one sample, taken just now: the replica's replay stopped a minute ago (paused), not 20 ms ago
    expect(lagOf(lsnBytes('0/3000000'), [at(100, '0/3000100')], 100_020, 60_000)).toBe(60_000);
    // a process stalled past the window keeps one fresh sample: the same
    expect(lagOf(lsnBytes('0/3000000'), [at(130, '0/3000100')], 130_030, 90_000)).toBe(90_000);
    // never less than the samples show
    expect(lagOf(lsnBytes('0/3000000'), [at(100, '0/3000100'), at(101, '0/3000200')], 101_500, 700)).toBe(1500);
  });

  it('has everything at a page boundary the insert position points past', () => {
    // the last record ended on a page boundary: the insert position is past the next page's header
    expect(lsnReached(lsnBytes('0/3002000'), lsnBytes('0/3002018'))).toBe(true);
    expect(lsnReached(lsnBytes('0/3001FF8'), lsnBytes('0/3002018'))).toBe(false);
    expect(lsnReached(lsnBytes('0/3002000'), lsnBytes('0/3002040'))).toBe(false);
  });

  it('names a replica without its credentials', () => {
    expect(replicaName('postgres://reader:s3cret@db-2.internal:5433/shop?sslmode=require')).toBe(
      'db-2.internal:5433/shop',
    );
    expect(replicaName('postgres://db-3/shop')).toBe('db-3:5432/shop');
  });
});

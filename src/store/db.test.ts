import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MoneyOverflowError } from '../domain/errors.js';
import { isContention, isUnavailable, parseNumber } from './db.js';

/** The error a real connect to this Unix socket path gives. */
const connectError = (path: string): Promise<Error> =>
  new Promise((resolve) => {
    connect(path).on('error', resolve);
  });

const withCode = (code: string, message = 'from the server'): Error => Object.assign(new Error(message), { code });

describe('which errors mean the database cannot be reached', () => {
  it('a Unix socket that is not there (a stopped server) is unavailable; a missing file anywhere else is not', async () => {
    const socket = await connectError('/nonexistent-stockroom-dir/.s.PGSQL.5432');
    expect(sqlCode(socket)).toBe('ENOENT');
    expect(isUnavailable(socket)).toBe(true);
    const file = await readFile('/nonexistent-stockroom-file').catch((error: unknown) => error);
    expect(isUnavailable(file)).toBe(false);
  });

  it('socket failures, server shutdown and startup, too many clients and lost or timed-out connections are unavailable', () => {
    for (const code of [
      'ECONNREFUSED',
      'EAI_AGAIN',
      'ECONNABORTED',
      'EHOSTUNREACH',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '53300',
    ]) {
      expect([code, isUnavailable(withCode(code))]).toEqual([code, true]);
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
    ]) {
      expect([message, isUnavailable(new Error(message))]).toEqual([message, true]);
    }
  });

  it('a request the database refused is not, and deadlocks and serialization failures are contention', () => {
    expect(isUnavailable(withCode('23505'))).toBe(false);
    expect(isUnavailable(withCode('40P01'))).toBe(false);
    expect([isContention(withCode('40P01')), isContention(withCode('40001')), isContention(withCode('23505'))]).toEqual(
      [true, true, false],
    );
  });
});

describe('how both drivers read int8 and numeric', () => {
  it('as numbers while every integer is exact, and refuses one past 2^53 - 1 rather than round it', () => {
    expect(['0', '-42', '9007199254740991', '-9007199254740991', '2.5'].map(parseNumber)).toEqual([
      0,
      -42,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2.5,
    ]);
    for (const past of ['9007199254740992', '10000000000000001', '-9007199254740993'])
      expect(() => parseNumber(past)).toThrow(MoneyOverflowError);
  });
});

const sqlCode = (error: Error): unknown => (error as Error & { code?: unknown }).code;

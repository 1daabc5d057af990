import { describe, expect, it } from 'vitest';
import { Stockroom } from '../src/services/stockroom.js';
import { cli, useEmbeddedCli } from './support/cli.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import type { Harness } from './support/harness.js';

const HOUR = 3_600_000;

/** Moves the keys named like `prefix%` back in time, as if claimed `hours` ago. */
async function age(h: Harness, prefix: string, hours: number): Promise<void> {
  await h.s.db.query(
    `UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => $2) WHERE key LIKE $1 || '%'`,
    [prefix, hours],
  );
}

const keysLike = async (h: Harness, prefix: string): Promise<string[]> =>
  (
    await h.s.db.query<{ key: string }>(`SELECT key FROM idempotency_keys WHERE key LIKE $1 || '%' ORDER BY key`, [
      prefix,
    ])
  ).rows.map((row) => row.key);

describe.each(drivers())('idempotency keys past their retention, on %s', (driver) => {
  const h = useStockroom(driver);

  it('forgets keys older than the retention and keeps the rest; a forgotten key makes a new request', async () => {
    const { sku } = await world(h.s, [20]);
    const prefix = uniq('ret');
    const reserve = (key: string, orderRef: string) =>
      h.s.reservations.reserve(
        { order_ref: orderRef, lines: [{ sku, qty: 1 }] },
        { idempotencyKey: `${prefix}-${key}` },
      );
    const old = await reserve('old', uniq('order'));
    await reserve('new', uniq('order'));
    await age(h, `${prefix}-old`, 25);

    // a replay within the retention answers the first answer
    expect((await reserve('old', old.order_ref)).id).toBe(old.id);
    expect(await h.s.forgetIdempotencyKeys(24 * HOUR)).toBeGreaterThanOrEqual(1);
    expect(await keysLike(h, prefix)).toEqual([`${prefix}-new`]);
    // the same key again, after it was forgotten, is a new request: here refused, the order_ref being taken
    await expect(reserve('old', old.order_ref)).rejects.toMatchObject({ code: 'already_exists' });
    await h.s.reservations.release(old.id);
    const again = await reserve('old', old.order_ref);
    expect(again.id).not.toBe(old.id);
  });

  it('keeps every key with a retention longer than their age, and refuses a retention that is not one', async () => {
    const prefix = uniq('keep');
    await h.s.catalog.addWarehouse(
      { code: uniq('W').toUpperCase().slice(0, 20), name: 'kept' },
      { idempotencyKey: `${prefix}-1` },
    );
    await age(h, `${prefix}-1`, 10);
    await h.s.forgetIdempotencyKeys(11 * HOUR);
    expect(await keysLike(h, prefix)).toEqual([`${prefix}-1`]);
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER, Number.NaN])
      await expect(h.s.forgetIdempotencyKeys(bad)).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('stops a pass after the batch it is in once its signal is aborted (a shutdown does not wait for a backlog)', async () => {
    const prefix = uniq('backlog');
    await h.s.db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, created_at)
       SELECT 'test', $1 || '-' || i, 'x', now() - interval '48 hours' FROM generate_series(1, 5100) AS i`,
      [prefix],
    );
    const stop = new AbortController();
    stop.abort();
    expect(await h.s.forgetIdempotencyKeys(24 * HOUR, { signal: stop.signal })).toBe(5000);
    expect(await keysLike(h, prefix)).toHaveLength(100);
    expect(await h.s.forgetIdempotencyKeys(24 * HOUR)).toBe(100);
  });

  it('shares the work among processes pruning at once: each old key is forgotten once, none twice', async () => {
    const prefix = uniq('many');
    const { sku } = await world(h.s, [400]);
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        h.s.reservations.reserve(
          { order_ref: uniq('order'), lines: [{ sku, qty: 1 }] },
          { idempotencyKey: `${prefix}-${String(i).padStart(3, '0')}` },
        ),
      ),
    );
    await age(h, prefix, 48);
    const others = [new Stockroom({ db: h.test.db }), new Stockroom({ db: h.test.db }), h.s];
    const counts = await Promise.all(others.map((stockroom) => stockroom.forgetIdempotencyKeys(24 * HOUR)));
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(120);
    expect(await keysLike(h, prefix)).toEqual([]);
  });
});

describe('stockroom forget-idempotency-keys', () => {
  const { env } = useEmbeddedCli('stockroom-forget-keys-');

  it('forgets keys older than the hours given, says how many, and refuses hours that are not a count', async () => {
    expect((await cli(env, 'migrate')).code).toBe(0);
    const done = await cli(env, 'forget-idempotency-keys', '--older-than-hours', '1');
    expect(done).toMatchObject({ code: 0, out: 'forgot 0 idempotency keys older than 1 hour\n' });
    const json = await cli(env, '--json', 'forget-idempotency-keys');
    expect(JSON.parse(json.out)).toEqual({ forgotten: 0, older_than_hours: 24 });
    for (const bad of ['-1', '1.5', 'soon', '99999999999999999999']) {
      const refused = await cli(env, 'forget-idempotency-keys', '--older-than-hours', bad);
      expect(refused.code).not.toBe(0);
      expect(refused.err).toMatch(/older-than-hours/);
    }
    const badEnv = await cli({ ...env, STOCKROOM_IDEMPOTENCY_RETENTION_HOURS: '9999999' }, 'forget-idempotency-keys');
    expect(badEnv.code).toBe(2);
    expect(badEnv.err).toMatch(/STOCKROOM_IDEMPOTENCY_RETENTION_HOURS/);
  });
});

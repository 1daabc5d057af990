import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import type { Db, Driver, Queryable } from '../src/store/db.js';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import { pgliteDb } from '../src/store/pglite.js';
import { openPostgres } from '../src/store/postgres.js';
import { createPostgresDatabase, drivers } from './support/databases.js';
import { TestClock, uniq, useStockroom } from './support/harness.js';
import { emptyPgliteFromTemplate } from './support/pglite-template.js';
import { expectNoSecretIn } from './support/secrets.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** An empty database of its own, not migrated. */
async function emptyDb(driver: Driver): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (driver === 'pglite') {
    const db = pgliteDb(await emptyPgliteFromTemplate());
    return { db, drop: () => db.close() };
  }
  const { url, drop } = await createPostgresDatabase();
  const db = await openPostgres(url);
  return {
    db,
    drop: async () => {
      await db.close();
      await drop();
    },
  };
}

/** The same database, counting the statements sent through it. */
function counting(db: Db): { db: Db; queries: () => number } {
  let n = 0;
  const query: Queryable['query'] = (sql, params) => {
    n++;
    return db.query(sql, params);
  };
  return { db: { ...db, query }, queries: () => n };
}

describe.each(drivers())('API keys on %s', (driver) => {
  const h = useStockroom(driver);

  it('a key that authenticated is trusted from memory for the cache time, then looked up again', async () => {
    const clock = new TestClock();
    const c = counting(h.test.db);
    const s = new Stockroom({ db: c.db, clock: clock.now, keyCacheMs: 10_000 });
    const { key } = await s.keys.create({ name: 'checkout', scopes: ['checkout'] });
    const before = c.queries();
    for (let i = 0; i < 5; i++)
      expect(await s.keys.authenticate(key)).toMatchObject({ name: 'checkout', scopes: ['checkout'] });
    expect(c.queries() - before).toBe(1);
    clock.advance(11);
    await s.keys.authenticate(key);
    expect(c.queries() - before).toBe(2);
  });

  it('refuses a scope named twice rather than folding it away, and makes no key', async () => {
    const before = (await h.s.keys.list()).length;
    await expect(h.s.keys.create({ name: 'twice', scopes: ['admin', 'admin'] })).rejects.toThrow(
      '/scopes: admin is named twice',
    );
    expect(await h.s.keys.list()).toHaveLength(before);
  });

  it('refuses a name of blanks only or with a control character (it is the ledger actor of what the key does), and makes no key', async () => {
    const before = (await h.s.keys.list()).length;
    for (const name of [
      '   ',
      '\t',
      'ops\nkey:admin',
      'bell\u0007',
      'esc\u001b[31m',
      'c1\u0085',
      // invisible: a zero width alone, a line separator, a right-to-left override that shows "nimda" as "admin"
      '\u200b',
      'a\u2028b',
      '\u202enimda',
    ])
      await expect(h.s.keys.create({ name, scopes: ['checkout'] })).rejects.toThrow(
        '/name: must be text of 1-100 characters, not only whitespace, with no control or invisible formatting character',
      );
    expect(await h.s.keys.list()).toHaveLength(before);
    // spaces inside and any printable script are names like others; blanks around it are dropped
    expect((await h.s.keys.create({ name: ' Kasse Zürich 2 ', scopes: ['checkout'] })).name).toBe('Kasse Zürich 2');
  });

  it('a key is remembered, without a query, only once it authenticated and only for the cache time', async () => {
    const clock = new TestClock();
    const c = counting(h.test.db);
    const s = new Stockroom({ db: c.db, clock: clock.now, keyCacheMs: 10_000 });
    const { key, id } = await s.keys.create({ name: 'remembered', scopes: ['checkout'] });
    const before = c.queries();
    expect(s.keys.remembered(key)).toBeUndefined(); // never checked here yet: the caller must look it up
    expect(s.keys.remembered('sr_nope_not-a-key-at-all')).toBeUndefined();
    await s.keys.authenticate(key);
    expect(s.keys.remembered(key)).toMatchObject({ id, scopes: ['checkout'] });
    expect(s.keys.remembered(`${key}x`)).toBeUndefined();
    expect(c.queries() - before).toBe(1);
    clock.advance(10_001);
    expect(s.keys.remembered(key)).toBeUndefined();
    await s.keys.authenticate(key);
    await s.keys.revoke(id);
    expect(s.keys.remembered(key)).toBeUndefined();
  });

  it('a revoked key is refused at once by the process that revoked it, and by others within the cache time', async () => {
    const clock = new TestClock();
    const here = new Stockroom({ db: h.test.db, clock: clock.now, keyCacheMs: 10_000 });
    const elsewhere = new Stockroom({ db: h.test.db, clock: clock.now, keyCacheMs: 10_000 });
    const created = await here.keys.create({ name: 'to revoke', scopes: ['warehouse'] });
    expect(await here.keys.authenticate(created.key)).toBeDefined();
    expect(await elsewhere.keys.authenticate(created.key)).toBeDefined();
    await here.keys.revoke(created.id);
    expect(await here.keys.authenticate(created.key)).toBeUndefined();
    clock.advance(11);
    expect(await elsewhere.keys.authenticate(created.key)).toBeUndefined();
  });

  it('an unknown key is never remembered: it is refused every time', async () => {
    const s = new Stockroom({ db: h.test.db, keyCacheMs: 10_000 });
    expect(await s.keys.authenticate('sr_nope_not-a-key-at-all')).toBeUndefined();
    expect(await s.keys.authenticate('sr_nope_not-a-key-at-all')).toBeUndefined();
  });

  it('two keys sharing their leading characters: revoking one by id leaves the other working', async () => {
    const s = new Stockroom({ db: h.test.db, keyCacheMs: 0 });
    const shared = uniq('sr_shared_start');
    await s.keys.ensure(`${shared}_first_0123456789`, 'first', ['warehouse']);
    await s.keys.ensure(`${shared}_second_0123456789`, 'second', ['warehouse']);
    await s.keys.ensure(`${shared}_first_0123456789`, 'first again', ['warehouse']); // exists already: nothing new
    const listed = (await s.keys.list()).filter(
      (k) => k.name === 'first' || k.name === 'second' || k.name === 'first again',
    );
    expect(listed.map((k) => k.name)).toEqual(['first', 'second']);
    expect(JSON.stringify(listed)).not.toContain(shared.slice(0, 10));
    await expect(s.keys.revoke(`sr_${shared.slice(3, 11)}`)).rejects.toMatchObject({ code: 'not_found' }); // no prefixes
    await s.keys.revoke(listed[0]!.id);
    expect(await s.keys.authenticate(`${shared}_first_0123456789`)).toBeUndefined();
    expect(await s.keys.authenticate(`${shared}_second_0123456789`)).toMatchObject({ name: 'second' });
    const generated = [
      await s.keys.create({ name: uniq('a'), scopes: ['checkout'] }),
      await s.keys.create({ name: uniq('b'), scopes: ['checkout'] }),
    ];
    await s.keys.revoke(String(generated[0]!.id));
    expect(await s.keys.authenticate(generated[0]!.key)).toBeUndefined();
    expect(await s.keys.authenticate(generated[1]!.key)).toMatchObject({ id: generated[1]!.id });
    // the right public id with another secret is not the key
    expect(await s.keys.authenticate(`${generated[1]!.prefix}_not-the-secret-at-all`)).toBeUndefined();
  });

  it('never makes a revoked STOCKROOM_ADMIN_KEY again: the next start is refused, naming the revoked key', async () => {
    const s = new Stockroom({ db: h.test.db });
    const operator = `revoked-operator-${uniq('x')}-0123456789`;
    await s.keys.ensure(operator, 'STOCKROOM_ADMIN_KEY', ['admin']);
    const made = await s.keys.authenticate(operator);
    await s.keys.revoke(made!.id);
    const keysBefore = (await s.keys.list()).length;
    await expect(s.keys.ensure(operator, 'STOCKROOM_ADMIN_KEY', ['admin'])).rejects.toThrow(
      `this key was revoked (key id ${made!.id}): set a new one`,
    );
    expect(await s.keys.authenticate(operator)).toBeUndefined();
    expect((await s.keys.list()).length).toBe(keysBefore);
  });

  it('stores a key as a salted HMAC: neither the key, its SHA-256 nor (for an operator key) its start is in the table', async () => {
    const s = new Stockroom({ db: h.test.db });
    const operator = `Zq9-operator-key-${uniq('x')}-0123456789`;
    await s.keys.ensure(operator, 'operator', ['admin']);
    const { key, prefix } = await s.keys.create({ name: uniq('gen'), scopes: ['storefront'] });
    const { rows } = await h.test.db.query<{ row: string }>('SELECT t::text AS row FROM api_keys t');
    const table = rows.map((r) => r.row).join('\n');
    expectNoSecretIn(table, [
      operator,
      sha256(operator),
      operator.slice(0, 8),
      key,
      sha256(key),
      key.slice(prefix.length + 1),
    ]);
    expect(await s.keys.authenticate(operator)).toMatchObject({
      name: 'operator',
      origin: 'operator',
      prefix: expect.stringMatching(/^sr_[0-9a-f]{12}$/) as unknown,
    });
  });

  it('honours Idempotency-Key on create: a replay answers the same key without its secret and makes no other', async () => {
    const s = new Stockroom({ db: h.test.db });
    const name = uniq('idem');
    const first = await s.keys.createOnce(
      { name, scopes: ['checkout'] },
      { idempotencyKey: 'k-1', idempotencyScope: 'key:1' },
    );
    const again = await s.keys.createOnce(
      { name, scopes: ['checkout'] },
      { idempotencyKey: 'k-1', idempotencyScope: 'key:1' },
    );
    expect('key' in first && first.key).toMatch(/^sr_/);
    const { key: _, ...shown } = first as { key: string };
    expect(again).toEqual({ ...shown, replayed: true });
    expect((await s.keys.list()).filter((k) => k.name === name)).toHaveLength(1);
    await expect(
      s.keys.createOnce({ name, scopes: ['admin'] }, { idempotencyKey: 'k-1', idempotencyScope: 'key:1' }),
    ).rejects.toMatchObject({ code: 'idempotency_conflict' });
    const { rows } = await h.test.db.query<{ response: string }>(
      `SELECT response::text FROM idempotency_keys WHERE scope = 'key.create'`,
    );
    expect(rows.map((r) => r.response).join()).not.toContain((first as { key: string }).key); // the secret is never stored
  });

  it('over HTTP, a key is looked up once, then remembered, with the same answers: admitted, forbidden, revoked', async () => {
    const s = new Stockroom({ db: h.test.db, keyCacheMs: 60_000 });
    const { key, id } = await s.keys.create({ name: uniq('till'), scopes: ['checkout'] });
    const lookups = vi.spyOn(s.keys, 'authenticate');
    const app = await buildServer({ stockroom: s });
    try {
      const call = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
      expect((await call('/v1/keys')).json()).toMatchObject({ status: 403, code: 'forbidden' });
      expect(lookups).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 3; i++) {
        expect((await call('/v1/keys')).json()).toMatchObject({ status: 403, code: 'forbidden' });
        expect((await call('/v1/reservations?limit=1')).statusCode).toBe(200);
      }
      expect(lookups).toHaveBeenCalledTimes(1); // the rest were admitted or refused from memory
      await s.keys.revoke(id);
      expect((await call('/v1/reservations?limit=1')).json()).toMatchObject({ status: 401, code: 'unauthorized' });
      expect(lookups).toHaveBeenCalledTimes(2);
    } finally {
      await app.close();
    }
  });

  it('/metrics needs a key with scope metrics or admin, unless STOCKROOM_METRICS_PUBLIC opens it', async () => {
    const { key } = await h.s.keys.create({ name: uniq('prom'), scopes: ['metrics'] });
    const { key: other } = await h.s.keys.create({ name: uniq('till'), scopes: ['checkout'] });
    const closed = await buildServer({ stockroom: h.s });
    const open = await buildServer({ stockroom: h.s, metricsPublic: true });
    try {
      const get = (app: typeof open, k?: string) =>
        app.inject({ method: 'GET', url: '/metrics', headers: k ? { authorization: `Bearer ${k}` } : {} });
      expect((await get(closed)).json()).toMatchObject({ status: 401, code: 'unauthorized' });
      expect((await get(closed, other)).json()).toMatchObject({ status: 403, code: 'forbidden' });
      expect((await get(closed, key)).statusCode).toBe(200);
      expect((await get(open)).statusCode).toBe(200);
    } finally {
      await closed.close();
      await open.close();
    }
  });
});

describe.each(drivers())('API keys from before salted hashes, on %s', (driver) => {
  it('migration 0010 keeps them working, shows no character of the admin key, and rehashes each on first use', async () => {
    const { db, drop } = await emptyDb(driver);
    try {
      const before = (await loadMigrations()).filter((m) => m.version < '0010');
      await db.transaction(async (tx) => {
        await tx.exec(
          'CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        for (const m of before) {
          await tx.exec(m.sql);
          await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
        }
      });
      // as the old code stored them: a generated key with its random prefix, the admin key with its first 8 characters
      const generated = 'sr_0a1b2c3d_legacyGeneratedSecret0123456789';
      const admin = 'sr_live_operatorAdminKey0123456789';
      const twin = 'sr_live_anotherKeyWithTheSameStart';
      await db.query(
        `INSERT INTO api_keys (name, prefix, secret_hash, scopes) VALUES
        ('legacy', '0a1b2c3d', $1, '{checkout}'), ('STOCKROOM_ADMIN_KEY', 'sr_live_', $2, '{admin}'), ('twin', 'sr_live_', $3, '{warehouse}')`,
        [sha256(generated), sha256(admin), sha256(twin)],
      );
      expect(await migrate(db)).toEqual(expect.arrayContaining(['0010_secrets']));
      const s = new Stockroom({ db, keyCacheMs: 0 });
      const listed = await s.keys.list();
      expect(JSON.stringify(listed)).not.toContain('sr_live');
      expect(listed.map((k) => [k.name, k.prefix])).toEqual([
        ['legacy', 'sr_0a1b2c3d'],
        ['STOCKROOM_ADMIN_KEY', expect.stringMatching(/^sr_[0-9a-f]{12}$/)],
        ['twin', expect.stringMatching(/^sr_[0-9a-f]{12}$/)],
      ]);
      for (const [key, name] of [
        [generated, 'legacy'],
        [admin, 'STOCKROOM_ADMIN_KEY'],
        [twin, 'twin'],
      ] as const) {
        expect(await s.keys.authenticate(key)).toMatchObject({ name });
        expect(await s.keys.authenticate(key)).toMatchObject({ name }); // rehashed, and still found
      }
      const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM api_keys t`);
      for (const key of [generated, admin, twin]) expect(rows.map((r) => r.row).join()).not.toContain(sha256(key));
      await s.keys.ensure(admin, 'STOCKROOM_ADMIN_KEY', ['admin']); // a restart with the same key adds none
      expect(await s.keys.list()).toHaveLength(3);
      await s.keys.revoke(listed[1]!.id);
      expect(await s.keys.authenticate(admin)).toBeUndefined();
      expect(await s.keys.authenticate(twin)).toMatchObject({ name: 'twin' });
    } finally {
      await drop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { Stockroom } from '../src/services/stockroom.js';
import type { Db, Queryable } from '../src/store/db.js';
import { drivers } from './support/databases.js';
import { TestClock, useStockroom } from './support/harness.js';

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
    for (let i = 0; i < 5; i++) expect(await s.keys.authenticate(key)).toMatchObject({ name: 'checkout', scopes: ['checkout'] });
    expect(c.queries() - before).toBe(1);
    clock.advance(11);
    await s.keys.authenticate(key);
    expect(c.queries() - before).toBe(2);
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
});

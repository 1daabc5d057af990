import { afterEach, describe, expect, it } from 'vitest';
import { TargetNotEmptyError } from '../src/domain/errors.js';
import { copyStore } from '../src/services/copy.js';
import { Stockroom } from '../src/services/stockroom.js';
import { createTestDb, drivers } from './support/databases.js';
import type { TestDb } from './support/databases.js';
import { expectReconciled } from './support/harness.js';

describe.each(drivers())('db copy into a database only migrated, on %s', (driver) => {
  const made: TestDb[] = [];
  const database = async (): Promise<TestDb> => {
    const db = await createTestDb(driver);
    made.push(db);
    return db;
  };
  afterEach(async () => {
    await Promise.all(made.splice(0).map((db) => db.drop()));
  });

  /** A small store: a warehouse, a SKU with stock, a pending reservation. */
  const storeIn = async (db: TestDb): Promise<void> => {
    const s = new Stockroom({ db: db.db });
    await s.catalog.addWarehouse({ code: 'MAIN', name: 'Main' });
    await s.catalog.addVariant({ sku: 'MUG', product: { title: 'Mug' } });
    await s.stock.receive({ sku: 'MUG', warehouse: 'MAIN', qty: 7 });
    await s.reservations.reserve({ order_ref: 'o-1', lines: [{ sku: 'MUG', qty: 2 }] });
  };

  it('takes the copy: the migrations ran and nothing else (their seeded job row is replaced)', async () => {
    const source = await database();
    await storeIn(source);
    const target = await database(); // migrated by createTestDb, as `stockroom migrate` does
    const report = await copyStore(source.db, target.db);
    expect(report.committed).toBe(true);
    expect(report.tables.filter((count) => !count.identical)).toEqual([]);
    const copy = new Stockroom({ db: target.db });
    expect((await copy.stock.get('MUG')).warehouses.map((l) => [l.warehouse, l.on_hand, l.reserved])).toEqual([
      ['MAIN', 7, 2],
    ]);
    await expectReconciled(copy);
  });

  it('refuses one that holds a row of a store, naming the tables that do, and changes nothing', async () => {
    const source = await database();
    await storeIn(source);
    const target = await database();
    await new Stockroom({ db: target.db }).catalog.addWarehouse({ code: 'OWN', name: 'Its own' });
    const refused = await copyStore(source.db, target.db).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TargetNotEmptyError);
    expect(refused).toMatchObject({ code: 'not_empty', extra: { objects: ['warehouses'] } });
    const { rows } = await target.db.query<{ code: string }>('SELECT code FROM warehouses');
    expect(rows).toEqual([{ code: 'OWN' }]);
  });
});

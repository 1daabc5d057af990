import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { Stockroom } from '../../src/services/stockroom.js';
import type { Driver } from '../../src/store/db.js';
import { createTestDb } from './databases.js';
import type { TestDb } from './databases.js';

/** A clock tests move by hand, so deadlines pass without waiting. */
export class TestClock {
  private t = Date.parse('2026-01-15T10:00:00Z');
  now = (): Date => new Date(this.t);
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

let counter = 0;
/**
 * The priority base of the last world made on each Stockroom (its database). Kept per database, not per module: a
 * worker that runs file after file in one process (vitest without isolation) would otherwise carry one file's base
 * into the next, past the highest priority a warehouse takes.
 */
const worldPriorities = new WeakMap<Stockroom, number>();
/** A name no other test in this run uses (tests in one file share a database). */
export const uniq = (prefix: string): string => `${prefix}-${process.pid}-${++counter}`;

export interface Harness {
  s: Stockroom;
  clock: TestClock;
  test: TestDb;
}

/** Fails with the drift itself, so a broken invariant shows where it broke. */
export async function expectReconciled(s: Stockroom): Promise<void> {
  const report = await s.reconcile();
  expect({ drift: report.drift, holds: report.holds, states: report.states, costs: report.costs }).toEqual({
    drift: [],
    holds: [],
    states: [],
    costs: [],
  });
}

/**
 * One migrated database per suite and driver, shared by its tests (each uses names of its own), reconciled
 * after every test: whatever a test did, the ledger must still explain every level.
 */
export function useStockroom(driver: Driver, options: { max?: number } = {}): Harness {
  const h = { clock: new TestClock() } as Harness;
  beforeAll(async () => {
    h.test = await createTestDb(driver, options);
    h.s = new Stockroom({ db: h.test.db, clock: h.clock.now });
  });
  afterEach(async () => {
    await expectReconciled(h.s);
  });
  afterAll(async () => {
    await h.test.drop();
  });
  return h;
}

export interface World {
  sku: string;
  /** warehouse codes, in the order given */
  wh: string[];
}

/**
 * A variant and warehouses of this test's own, stocked as given. Priorities are offsets (default: 0, -1, ...)
 * from a base above every earlier test's warehouses, so routing sees this world first.
 */
export async function world(
  s: Stockroom,
  stock: readonly number[],
  variant: Record<string, unknown> = {},
  priorities?: readonly number[],
): Promise<World> {
  const sku = uniq('SKU');
  const wh: string[] = [];
  const worldPriority = (worldPriorities.get(s) ?? -900) + 10;
  worldPriorities.set(s, worldPriority);
  for (const [i] of stock.entries()) {
    const code = uniq(`W${i}`);
    await s.catalog.addWarehouse({ code, name: code, priority: worldPriority + (priorities?.[i] ?? -i) });
    wh.push(code);
  }
  await s.catalog.addVariant({ sku, product: { title: sku }, ...variant });
  for (const [i, qty] of stock.entries()) if (qty > 0) await s.stock.receive({ sku, warehouse: wh[i]!, qty });
  return { sku, wh };
}

/** on_hand/reserved/available of a SKU per warehouse code, in the given warehouses (other tests' have levels too). */
export async function levels(
  s: Stockroom,
  sku: string,
  only: readonly string[],
): Promise<Record<string, [number, number, number]>> {
  const stock = await s.stock.get(sku);
  return Object.fromEntries(
    stock.warehouses
      .filter((w) => only.includes(w.warehouse))
      .map((w) => [w.warehouse, [w.on_hand, w.reserved, w.available]]),
  );
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/store/db.js';
import { lockRoutingLevels } from '../src/store/levels.js';
import { openPostgres } from '../src/store/postgres.js';
import { Stockroom } from '../src/services/stockroom.js';
import { createTestDb, postgresUrl } from './support/databases.js';
import type { TestDb } from './support/databases.js';

/** Every node of a JSON plan, depth first. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  /** with EXPLAIN ANALYZE: how many times the node ran (0: never) */
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** A Queryable that hands every statement to the real one and keeps its text and parameters. */
function recording(inner: Queryable): { tx: Queryable; statements: { sql: string; params: unknown[] }[] } {
  const statements: { sql: string; params: unknown[] }[] = [];
  return {
    statements,
    tx: {
      query: (sql, params = []) => {
        statements.push({ sql, params: [...params] });
        return inner.query(sql, params);
      },
      exec: (sql) => inner.exec(sql),
    },
  };
}

/**
 * The plans a statement gets as a custom plan (its first executions) and as the generic plan a prepared
 * statement settles on (the node-postgres driver prepares every statement), on the statistics as they are; run
 * (EXPLAIN ANALYZE, in a transaction of its own) to say which nodes ran.
 */
async function plansOf(db: TestDb['db'], sql: string, params: unknown[]): Promise<PlanNode[][]> {
  return db.transaction(async (tx) => {
    const plans: PlanNode[][] = [];
    await tx.query(`PREPARE probe AS ${sql}`);
    const literals = params.map((param) => `'${param instanceof Date ? param.toISOString() : toArrayLiteral(param)}'`);
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await tx.query(`SET LOCAL plan_cache_mode = ${mode}`);
      const { rows } = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE probe(${literals.join(', ')})`,
      );
      const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
      if (!plan) throw new Error('EXPLAIN gave no plan');
      plans.push(nodesOf(plan));
    }
    await tx.query('DEALLOCATE probe');
    return plans;
  });
}
const toArrayLiteral = (value: unknown): string =>
  Array.isArray(value) ? `{${value.map((item) => `"${String(item)}"`).join(',')}}` : String(value);

const scansOf = (nodes: PlanNode[], relation: string): string[] =>
  nodes.filter((node) => node['Relation Name'] === relation).map((node) => node['Node Type']);
/** The scans of a relation that ran at least once. */
const readsOf = (nodes: PlanNode[], relation: string): string[] =>
  scansOf(
    nodes.filter((node) => node['Actual Loops'] !== 0),
    relation,
  );

/**
 * The reservation path's locking statement must not depend on statistics: a store whose reservation tables were
 * analyzed while empty (or never) and then filled must not plan a scan of every reservation line per group
 * (throughput halved on PostgreSQL until the next ANALYZE).
 */
describe.skipIf(!postgresUrl())('locking levels for a group of orders, on stale statistics (PostgreSQL)', () => {
  let test: TestDb;
  const now = new Date('2026-01-15T10:00:00Z');

  beforeAll(async () => {
    test = await createTestDb('postgres');
    const db = test.db;
    // nothing may refresh the statistics behind the test's back
    for (const table of ['reservations', 'reservation_lines', 'stock_levels', 'variants'])
      await db.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    await db.query(`ANALYZE`);
    await db.query(`INSERT INTO warehouses (code, name) VALUES ('PLAN-A', 'A'), ('PLAN-B', 'B')`);
    await db.query(`INSERT INTO products (title) VALUES ('plan')`);
    await db.query(
      `INSERT INTO variants (product_id, sku) SELECT (SELECT min(id) FROM products), 'PLAN-' || g FROM generate_series(1, 2000) g`,
    );
    await db.query(
      `INSERT INTO stock_levels (variant_id, warehouse_id, on_hand, reserved)
       SELECT v.id, w.id, 1000000, 0 FROM variants v CROSS JOIN warehouses w`,
    );
    // 100,000 reservations, settled long ago, of one line each over every level
    await db.query(
      `INSERT INTO reservations (id, order_ref, status, created_at, updated_at, closed_at)
       SELECT md5('plan' || g)::uuid, 'o' || g, 'fulfilled', $1, $1, $1 FROM generate_series(1, 100000) g`,
      [now],
    );
    await db.query(
      `INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty, fulfilled_qty)
       SELECT md5('plan' || g)::uuid, 1, (SELECT min(id) FROM variants) + g % 2000,
              (SELECT min(id) FROM warehouses) + g % 2, 1, 1
         FROM generate_series(1, 100000) g`,
    );
  }, 60_000);
  afterAll(async () => {
    await test.drop();
  });

  it('asks the due index first and, with nothing due, locks the levels reading no reservation line', async () => {
    const { tx, statements } = recording(test.db);
    const locked = await lockRoutingLevels(tx, ['PLAN-7', 'PLAN-1999'], now);
    expect(locked.levels).toHaveLength(4);
    expect(locked.due).toEqual([]);
    // one statement, so a group sends it right behind its order_ref locks (a pipeline)
    expect(statements).toHaveLength(1);
    const [{ sql, params }] = statements as [{ sql: string; params: unknown[] }];
    for (const plan of await plansOf(test.db, sql, params)) {
      // the part that looks for due holds is planned, gated on the due index's answer, and never runs
      expect(readsOf(plan, 'reservation_lines')).toEqual([]);
      expect(scansOf(plan, 'reservations')).not.toContain('Seq Scan');
      expect(scansOf(plan, 'stock_levels')).not.toContain('Seq Scan');
      expect(plan.some((node) => node['Index Name'] === 'reservations_due_idx')).toBe(true);
    }
  });

  it('locks the levels held by the pending reservations of the order_refs an order may replace', async () => {
    await test.db.query(
      `INSERT INTO reservations (id, order_ref, status, expires_at, created_at, updated_at)
       VALUES ('00000000-0000-4000-8000-000000000002', 'replaced', 'pending', $1, $1, $1)`,
      [new Date(now.getTime() + 3_600_000)],
    );
    await test.db.query(
      `INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty)
       SELECT '00000000-0000-4000-8000-000000000002', 1, v.id, (SELECT min(id) FROM warehouses), 1
         FROM variants v WHERE v.sku = 'PLAN-9'`,
    );
    const { tx, statements } = recording(test.db);
    const locked = await lockRoutingLevels(tx, ['PLAN-7'], now, ['replaced', 'nobody']);
    expect(new Set(locked.levels.map((level) => level.sku))).toEqual(new Set(['PLAN-7', 'PLAN-9']));
    expect(locked.due).toEqual([]);
    const [{ sql, params }] = statements as [{ sql: string; params: unknown[] }];
    for (const plan of await plansOf(test.db, sql, params)) {
      expect(scansOf(plan, 'reservation_lines')).not.toContain('Seq Scan');
      expect(scansOf(plan, 'reservations')).not.toContain('Seq Scan');
    }
  });

  it('finds due holds on the SKUs through the lines of their levels, not by reading every line', async () => {
    await test.db.query(
      `INSERT INTO reservations (id, order_ref, status, expires_at, created_at, updated_at)
       VALUES ('00000000-0000-4000-8000-000000000001', 'due', 'pending', $1, $1, $1)`,
      [new Date(now.getTime() - 1000)],
    );
    await test.db.query(
      `INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty)
       SELECT '00000000-0000-4000-8000-000000000001', n, v.id, (SELECT min(id) FROM warehouses), 1
         FROM variants v JOIN (VALUES ('PLAN-7', 1), ('PLAN-8', 2)) AS s(sku, n) ON s.sku = v.sku`,
    );
    const { tx, statements } = recording(test.db);
    const locked = await lockRoutingLevels(tx, ['PLAN-7'], now);
    expect(locked.due).toEqual(['00000000-0000-4000-8000-000000000001']);
    // the other SKU the due reservation holds is locked too, so it can be expired whole
    expect(new Set(locked.levels.map((level) => level.sku))).toEqual(new Set(['PLAN-7', 'PLAN-8']));
    const [{ sql, params }] = statements as [{ sql: string; params: unknown[] }];
    for (const plan of await plansOf(test.db, sql, params)) {
      expect(scansOf(plan, 'reservation_lines')).not.toContain('Seq Scan');
      expect(readsOf(plan, 'reservation_lines').length).toBeGreaterThan(0);
    }
  });
});

/**
 * The plan cache keeps a statement's generic plan only if it costs no more than the plans made for the values given;
 * a short array costs less planned for itself, and a statement was planned anew on every call (docs/design.md, "One
 * plan a statement").
 */
describe.skipIf(!postgresUrl())('the plan cache on the checkout path (PostgreSQL)', () => {
  it('settles every statement of reserve, commit, fulfil, release and their keys on one generic plan, groups of one order', async () => {
    const test = await createTestDb('postgres');
    // one connection, so the statements it prepared are the ones this session shows
    const db = await openPostgres(test.url!, { max: 1 });
    const s = new Stockroom({ db });
    try {
      await s.catalog.addWarehouse({ code: 'PC-A', name: 'A' });
      await s.catalog.addVariant({ sku: 'PC-1', product: { title: 'plan cache' } });
      await s.stock.receive({ sku: 'PC-1', warehouse: 'PC-A', qty: 1000 });
      const orders = async (round: string) => {
        for (let i = 0; i < 12; i++) {
          const order = await s.reservations.reserve(
            { order_ref: `${round}-${i}`, lines: [{ sku: 'PC-1', qty: 1 }] },
            { idempotencyKey: `${round}-${i}` },
          );
          if (i % 2 === 0) await s.reservations.release(order.id);
          else {
            await s.reservations.commit(order.id);
            await s.reservations.fulfil(order.id);
          }
        }
      };
      // without a channel, then with one wanting the events a group writes itself (its other statement texts)
      await orders('quiet');
      await s.channels.addWebhook({
        url: 'http://127.0.0.1:9/events',
        events: ['reservation.created', 'stock.changed'],
        secret: 'whsec-plan-cache-0123456789',
      });
      await orders('heard');
      const { rows } = await db.query<{ statement: string; generic_plans: number; custom_plans: number }>(
        'SELECT statement, generic_plans::int, custom_plans::int FROM pg_prepared_statements',
      );
      const often = rows.filter((row) => row.generic_plans + row.custom_plans > 5);
      const writes = often.filter((row) => row.statement.includes('INSERT INTO reservations'));
      expect(writes.length).toBeGreaterThanOrEqual(2);
      expect(often.some((row) => row.statement.includes('idempotency_keys'))).toBe(true);
      // planned for the arrays it was given (one element, under the generic plan's ten), a statement would be
      // planned anew on every call: more than five custom plans
      for (const row of often) expect(row.custom_plans, row.statement).toBeLessThanOrEqual(5);
    } finally {
      await s.close();
      await test.drop();
    }
  });
});

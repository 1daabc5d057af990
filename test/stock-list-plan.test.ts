import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StockKey } from '../src/domain/stock-list.js';
import { stockCountStatement, stockPageStatement } from '../src/store/stock-list.js';
import type { Statement, StockListFilter } from '../src/store/stock-list.js';
import { createTestDb, postgresUrl } from './support/databases.js';
import type { TestDb } from './support/databases.js';

/** Every node of a JSON plan, depth first. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

const VARIANTS = 100_000;

/**
 * The stock list's statements at 100,000 variants in two warehouses (200,000 levels), planned as the service runs
 * them (custom plans, on fresh statistics): each filtered page is read through an index, never by reading every
 * level or variant. The p99 at a million is measured by `npm run bench -- --only stock-list`.
 */
describe.skipIf(!postgresUrl())('the stock list reads indexes at 100,000 variants (PostgreSQL)', () => {
  let test: TestDb;
  let warehouseId = 0;

  beforeAll(async () => {
    test = await createTestDb('postgres');
    const db = test.db;
    await db.query(`INSERT INTO warehouses (code, name) VALUES ('PLAN-A', 'A'), ('PLAN-B', 'B')`);
    warehouseId = (await db.query<{ id: number }>(`SELECT min(id) AS id FROM warehouses`)).rows[0]?.id ?? 0;
    await db.query(`INSERT INTO suppliers (code, name) VALUES ('PLAN-S', 'S')`);
    // a product per ten variants, in 20 top categories of 7 each, with one of 50 tags
    await db.query(
      `INSERT INTO products (title, category, tags)
       SELECT 'Plan product ' || g, 'cat-' || g % 20 || '/sub-' || g % 7, ARRAY['tag-' || g % 50]
         FROM generate_series(1, $1::int) g`,
      [VARIANTS / 10],
    );
    await db.query(
      `INSERT INTO variants (product_id, sku, supplier_id, attributes)
       SELECT p.first + (g - 1) / 10, 'PLAN-' || lpad(g::text, 7, '0'),
              CASE WHEN g % 100 = 0 THEN (SELECT id FROM suppliers WHERE code = 'PLAN-S') END,
              jsonb_build_object('size', g % 10, 'color', CASE WHEN g % 100 = 0 THEN 'red' ELSE 'blue' END)
         FROM generate_series(1, $1::int) g, (SELECT min(id) AS first FROM products) p`,
      [VARIANTS],
    );
    // about one level in a hundred at or below its threshold of 5
    await db.query(
      `INSERT INTO stock_levels (variant_id, warehouse_id, on_hand)
       SELECT v.id, w.id, CASE WHEN (v.id * 7 + w.id) % 100 = 0 THEN (v.id % 6)::int ELSE 6 + (v.id * 31 + w.id) % 1000 END
         FROM variants v CROSS JOIN warehouses w`,
    );
    await db.exec('VACUUM ANALYZE');
  }, 120_000);
  afterAll(async () => {
    await test.drop();
  });

  /** The plan of a statement as the service runs it (custom plans only), and its rows. */
  async function planOf(statement: Statement): Promise<PlanNode[]> {
    return test.db.transaction(async (tx) => {
      await tx.query('SET LOCAL plan_cache_mode = force_custom_plan');
      const { rows } = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (FORMAT JSON) ${statement.text}`,
        statement.values,
      );
      const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
      if (!plan) throw new Error('EXPLAIN gave no plan');
      return nodesOf(plan);
    });
  }
  const scans = (nodes: PlanNode[], relation: string): string[] =>
    nodes.filter((node) => node['Relation Name'] === relation).map((node) => node['Node Type']);
  const indexes = (nodes: PlanNode[]): string[] =>
    nodes.map((node) => node['Index Name']).filter((name): name is string => name !== undefined);
  const key = (sort: StockKey['sort'], order: StockKey['order'], value: string | number): StockKey => ({
    sort,
    order,
    value,
    variantId: 5000,
    warehouseId,
  });

  const filters: [string, StockListFilter][] = [
    ['a warehouse and a status', { warehouseId: 0, statuses: ['low'] }],
    ['low stock now in a warehouse', { warehouseId: 0, statuses: ['low', 'out', 'preorder', 'backorder'] }],
    ['a category and below', { category: 'cat-3' }],
    ['a category leaf in a warehouse', { category: 'cat-3/sub-2', warehouseId: 0 }],
    ['a tag', { tag: 'tag-7' }],
    ['a supplier', { supplierId: 1 }],
    ['text', { text: 'plan-00012' }],
    ['nothing', {}],
  ];

  it.each(filters)('pages by SKU, after a cursor, filtered by %s, through indexes', async (_name, given) => {
    const filter = { ...given, ...(given.warehouseId === 0 ? { warehouseId } : {}) };
    for (const after of [undefined, key('sku', 'asc', 'PLAN-0050000')]) {
      const plan = await planOf(stockPageStatement(filter, 'sku', 'asc', after, 51));
      expect(scans(plan, 'stock_levels'), JSON.stringify(filter)).not.toContain('Seq Scan');
      expect(scans(plan, 'variants'), JSON.stringify(filter)).not.toContain('Seq Scan');
      expect(scans(plan, 'products'), JSON.stringify(filter)).not.toContain('Seq Scan');
    }
  });

  it('keeps every index off the numbers a reservation changes, so a level update stays HOT', async () => {
    const { rows } = await test.db.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE tablename = 'stock_levels'",
    );
    for (const { indexdef } of rows) expect(indexdef).not.toMatch(/\b(on_hand|reserved|available)\b/);
  });

  it.each(['on_hand', 'reserved', 'available'] as const)(
    'pages by %s either way from a cursor under a narrow filter without reading the whole table',
    async (sort) => {
      for (const order of ['asc', 'desc'] as const)
        for (const filter of [
          { category: 'cat-3/sub-2', warehouseId },
          { warehouseId, statuses: ['low'] as StockListFilter['statuses'] },
        ])
          for (const after of [undefined, key(sort, order, 500)]) {
            const plan = await planOf(stockPageStatement(filter, sort, order, after, 51));
            expect(scans(plan, 'stock_levels')).not.toContain('Seq Scan');
          }
    },
  );

  it.each(['on_hand', 'reserved', 'available'] as const)(
    'pages by %s over a warehouse, a category or everything by walking the index of the order kept apart',
    async (sort) => {
      for (const order of ['asc', 'desc'] as const)
        for (const filter of [{ warehouseId }, {}, { warehouseId, statuses: ['in_stock'] }] as StockListFilter[])
          for (const after of [undefined, key(sort, order, 500)]) {
            const plan = await planOf(stockPageStatement(filter, sort, order, after, 51));
            const shown = `${sort} ${order} ${JSON.stringify(filter)} ${JSON.stringify(indexes(plan))}`;
            expect(indexes(plan), shown).toContain(`stock_list_order_${sort}_idx`);
            // the page's rows come in the index's order: nothing is sorted but the page itself
            expect(scans(plan, 'stock_levels'), shown).not.toContain('Seq Scan');
            expect(scans(plan, 'stock_list_order'), shown).not.toContain('Seq Scan');
          }
      const category = await planOf(stockPageStatement({ category: 'cat-3' }, sort, 'desc', undefined, 51));
      expect(scans(category, 'stock_levels')).not.toContain('Seq Scan');
      expect(scans(category, 'stock_list_order')).not.toContain('Seq Scan');
    },
  );

  it('finds variants by attribute through the attributes index', async () => {
    const red = { attributes: [{ name: 'color', values: ['red'] }] };
    expect(indexes(await planOf(stockCountStatement(red, 10_000)))).toContain('variants_attributes_idx');
    const size = { attributes: [{ name: 'size', values: ['4', 4] }], warehouseId };
    const page = await planOf(stockPageStatement(size, 'sku', 'asc', undefined, 51));
    expect(scans(page, 'variants')).not.toContain('Seq Scan');
    const count = await planOf(stockCountStatement({ ...red, ...size, attributes: [...red.attributes] }, 10_000));
    expect(indexes(count)).toContain('variants_attributes_idx');
  });

  it('finds the few levels below in stock through the status index, in any order, and counts them from it', async () => {
    // the page's keys are read from the status index, then sorted
    for (const statuses of [['low'], ['low', 'out', 'preorder', 'backorder']] as StockListFilter['statuses'][])
      for (const sort of ['sku', 'on_hand', 'reserved', 'available'] as const)
        for (const order of ['asc', 'desc'] as const)
          for (const after of [undefined, key(sort, order, sort === 'sku' ? 'PLAN-0050000' : 3)]) {
            // by on_hand descending the planner would walk on_hand's index from the top, where no low level is; by
            // SKU it would walk every SKU to meet one level in a hundred
            const plan = await planOf(stockPageStatement({ warehouseId, statuses }, sort, order, after, 51));
            expect(indexes(plan), `${sort} ${order} ${JSON.stringify(indexes(plan))}`).toContain(
              'stock_levels_list_status_idx',
            );
          }
    const count = await planOf(stockCountStatement({ warehouseId, statuses: ['low', 'out'] }, 10_000));
    expect(indexes(count)).toEqual(['stock_levels_list_status_idx']);
    expect(count.map((node) => node['Node Type'])).toContain('Index Only Scan');
  });

  it('searches text, tags and categories through their indexes', async () => {
    const text = await planOf(stockPageStatement({ text: 'plan-00012' }, 'sku', 'asc', undefined, 51));
    expect(indexes(text)).toEqual(expect.arrayContaining(['variants_sku_trgm_idx', 'products_title_trgm_idx']));
    const tag = await planOf(stockCountStatement({ tag: 'tag-7' }, 10_000));
    expect(indexes(tag)).toContain('products_tags_idx');
    const category = await planOf(stockCountStatement({ category: 'cat-3/sub-2' }, 10_000));
    expect(indexes(category)).toContain('products_category_idx');
  });
});

import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { VariantInput, VariantUpdate, WarehouseInput, parse } from '../services/schemas.js';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';
import { int, intOption } from './args.js';

function attributes(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  return Object.fromEntries(
    pairs.map((p, i) => {
      const at = p.indexOf('=');
      if (at <= 0) throw ValidationError.field(`/attributes/${i}`, `"${p}" is not KEY=VALUE`);
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface VariantFlags {
  title?: string;
  threshold?: number;
  safety?: number;
  backorder?: string;
  limit?: number;
  leadDays?: number;
  reorderPoint?: number;
  reorderQty?: number;
  leadTime?: number;
  supplier?: string;
  attr?: string[];
}

function variantSettings(o: VariantFlags): Record<string, unknown> {
  const backorder =
    o.backorder === undefined ? undefined : { policy: o.backorder, limit: o.limit, lead_days: o.leadDays };
  if (o.backorder === undefined && (o.limit !== undefined || o.leadDays !== undefined)) {
    throw ValidationError.field(
      '/backorder/policy',
      '--limit and --lead-days go with --backorder deny|backorder|preorder',
    );
  }
  return {
    attributes: attributes(o.attr),
    low_stock_threshold: o.threshold,
    safety_stock: o.safety,
    backorder,
    reorder_point: o.reorderPoint,
    reorder_qty: o.reorderQty,
    lead_time_days: o.leadTime,
    supplier: o.supplier,
  };
}

const withVariantFlags = (c: Command): Command =>
  c
    .option('--threshold <n>', 'low-stock threshold', intOption)
    .option('--safety <n>', 'safety stock held back in each warehouse', intOption)
    .option('--backorder <policy>', 'deny | backorder | preorder')
    .option('--limit <n>', 'units each warehouse may sell short (backorder, preorder)', intOption)
    .option('--lead-days <n>', 'days until backordered units ship', intOption)
    .option('--reorder-point <n>', 'reorder when on hand less reserved plus on order falls to this', intOption)
    .option('--reorder-qty <n>', 'how many to reorder', intOption)
    .option('--lead-time <n>', 'supplier lead time in days', intOption)
    .option('--supplier <code>', 'the supplier it is bought from (replenishment orders there)')
    .option('--attr <key=value>', 'an attribute such as size=M (repeatable)', collect);

export function registerCatalog(program: Command, ctx: () => CommandContext): void {
  const warehouse = program.command('warehouse').description('warehouses');
  warehouse
    .command('add <code>')
    .description('add a warehouse')
    .requiredOption('--name <name>', 'display name')
    .option('--lat <deg>', 'latitude', Number)
    .option('--lon <deg>', 'longitude', Number)
    .option('--priority <n>', 'higher is tried first when routing', int)
    .action(async (code: string, o: { name: string; lat?: number; lon?: number; priority?: number }) => {
      const c = ctx();
      const w = await withStockroom(c.env, (s) =>
        s.catalog.addWarehouse(
          parse(WarehouseInput, { code, name: o.name, lat: o.lat, lon: o.lon, priority: o.priority }),
          { actor: c.actor },
        ),
      );
      c.print(w, `warehouse ${w.code} added (${w.name})`);
    });
  warehouse
    .command('list')
    .description('list warehouses')
    .action(async () => {
      const c = ctx();
      const list = await withStockroom(c.env, (s) => s.catalog.listWarehouses());
      c.print(list, () =>
        table(
          ['CODE', 'NAME', 'PRIORITY', 'LAT', 'LON'],
          list.map((w) => [w.code, w.name, w.priority, w.lat, w.lon]),
        ),
      );
    });

  const variant = program.command('variant').description('variants (SKUs)');
  withVariantFlags(
    variant.command('add <sku>').description('add a variant').requiredOption('--title <title>', 'product title'),
  ).action(async (sku: string, o: VariantFlags) => {
    const c = ctx();
    const v = await withStockroom(c.env, (s) =>
      s.catalog.addVariant(parse(VariantInput, { sku, product: { title: o.title }, ...variantSettings(o) })),
    );
    c.print(v, `variant ${v.sku} added (${v.product.title}, ${v.backorder.policy})`);
  });
  withVariantFlags(
    variant
      .command('update <sku>')
      .description("change a variant's settings")
      .option('--title <title>', 'product title'),
  ).action(async (sku: string, o: VariantFlags) => {
    const c = ctx();
    const v = await withStockroom(c.env, (s) =>
      s.catalog.updateVariant(
        sku,
        parse(VariantUpdate, {
          product: o.title === undefined ? undefined : { title: o.title },
          ...variantSettings(o),
        }),
      ),
    );
    c.print(v, `variant ${v.sku} updated`);
  });
  variant
    .command('show <sku>')
    .description("a variant's settings")
    .action(async (sku: string) => {
      const c = ctx();
      const v = await withStockroom(c.env, (s) => s.catalog.getVariant(sku));
      c.print(v, () => JSON.stringify(v, null, 2));
    });
  variant
    .command('list')
    .description('list variants')
    .option('--query <text>', 'match SKU or title')
    .option('--limit <n>', 'page size', intOption)
    .option('--cursor <sku>', 'continue after this SKU')
    .action(async (o: { query?: string; limit?: number; cursor?: string }) => {
      const c = ctx();
      const page = await withStockroom(c.env, (s) => s.catalog.listVariants(o));
      c.print(page, () =>
        [
          table(
            ['SKU', 'TITLE', 'POLICY', 'THRESHOLD'],
            page.items.map((v) => [v.sku, v.product.title, v.backorder.policy, v.low_stock_threshold]),
          ),
          ...(page.next_cursor ? [`(more: --cursor ${page.next_cursor})`] : []),
        ].join('\n'),
      );
    });

  program
    .command('bin')
    .description('storage bins')
    .command('add <warehouse> <code>')
    .description('add a bin (aisle-rack-shelf, e.g. A-01-03)')
    .action(async (warehouseCode: string, code: string) => {
      const c = ctx();
      const b = await withStockroom(c.env, (s) => s.catalog.addBin({ warehouse: warehouseCode, code }));
      c.print(b, `bin ${b.code} added to ${b.warehouse}`);
    });
}

import type { Command } from 'commander';
import { VariantInput, VariantUpdate, WarehouseInput, parse } from '../services/schemas.js';
import { ValidationError } from '../domain/errors.js';
import { registerArchive } from './archive.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table, withMoreHint } from './output.js';
import { int, intOption, pageSizeOption } from './args.js';

function attributes(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  return Object.fromEntries(
    pairs.map((pair, i) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw ValidationError.field(`/attributes/${i}`, `"${pair}" is not KEY=VALUE`);
      return [pair.slice(0, at), pair.slice(at + 1)];
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
  limitScope?: string;
  trackInventory?: boolean;
}

function variantSettings(flags: VariantFlags): Record<string, unknown> {
  const backorder =
    flags.backorder === undefined
      ? undefined
      : { policy: flags.backorder, limit: flags.limit, lead_days: flags.leadDays };
  if (flags.backorder === undefined && (flags.limit !== undefined || flags.leadDays !== undefined)) {
    throw ValidationError.field(
      '/backorder/policy',
      '--limit and --lead-days go with --backorder deny|backorder|preorder',
    );
  }
  return {
    attributes: attributes(flags.attr),
    low_stock_threshold: flags.threshold,
    safety_stock: flags.safety,
    backorder,
    reorder_point: flags.reorderPoint,
    reorder_qty: flags.reorderQty,
    lead_time_days: flags.leadTime,
    supplier: flags.supplier,
    limit_scope: flags.limitScope,
    track_inventory: flags.trackInventory,
  };
}

const withVariantFlags = (command: Command): Command =>
  command
    .option('--threshold <n>', 'low-stock threshold', intOption)
    .option('--safety <n>', 'safety stock held back in each warehouse', intOption)
    .option('--backorder <policy>', 'deny | backorder | preorder')
    .option('--limit <n>', 'units each warehouse may sell short (backorder, preorder)', intOption)
    .option('--lead-days <n>', 'days until backordered units ship', intOption)
    .option('--reorder-point <n>', 'reorder when on hand less reserved plus on order falls to this', intOption)
    .option('--reorder-qty <n>', 'how many to reorder', intOption)
    .option('--lead-time <n>', 'supplier lead time in days', intOption)
    .option('--supplier <code>', 'the supplier it is bought from (replenishment orders there)')
    .option('--attr <key=value>', 'an attribute such as size=M (repeatable)', collect)
    .option('--limit-scope <scope>', 'warehouse | variant: safety stock and --limit per warehouse or for the sum')
    .option('--track-inventory', 'count its stock (the default)')
    .option('--no-track-inventory', 'do not count its stock: orders are recorded and never refused');

/** `stockroom warehouse`, `variant` and `bin`: the catalog that stock lives in. */
export function registerCatalog(program: Command, ctx: () => CommandContext): void {
  const warehouse = program.command('warehouse').description('warehouses');
  warehouse
    .command('add <code>')
    .description('add a warehouse')
    .requiredOption('--name <name>', 'display name')
    .option('--lat <deg>', 'latitude', Number)
    .option('--lon <deg>', 'longitude', Number)
    .option('--priority <n>', 'higher is tried first when routing', int)
    .action(async (code: string, options: { name: string; lat?: number; lon?: number; priority?: number }) => {
      const input = { code, name: options.name, lat: options.lat, lon: options.lon, priority: options.priority };
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.catalog.addWarehouse(parse(WarehouseInput, input), call),
        (warehouse) => `warehouse ${warehouse.code} added (${warehouse.name})`,
      );
    });
  warehouse
    .command('list')
    .description('list warehouses')
    .option('--archived', 'the archived ones instead of those in use')
    .action(async (options: { archived?: boolean }) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.catalog.listWarehouses(options),
        (warehouses) =>
          table(
            ['CODE', 'NAME', 'PRIORITY', 'LAT', 'LON'],
            warehouses.map((warehouse) => [
              warehouse.code,
              warehouse.name,
              warehouse.priority,
              warehouse.lat,
              warehouse.lon,
            ]),
          ),
      );
    });

  const variant = program.command('variant').description('variants (SKUs)');
  withVariantFlags(
    withProductFlags(
      variant.command('add <sku>').description('add a variant').requiredOption('--title <title>', 'product title'),
    ),
  ).action(async (sku: string, flags: VariantFlags & ProductFlags) => {
    const input = { sku, product: { title: flags.title, ...productFields(flags) }, ...variantSettings(flags) };
    await runAndPrint(
      ctx(),
      (stockroom) => stockroom.catalog.addVariant(parse(VariantInput, input)),
      (variant) => `variant ${variant.sku} added (${variant.product.title}, ${variant.backorder.policy})`,
    );
  });
  withVariantFlags(
    withProductFlags(
      variant
        .command('update <sku>')
        .description("change a variant's settings")
        .option('--title <title>', 'product title'),
    ),
  ).action(async (sku: string, flags: VariantFlags & ProductFlags) => {
    const product = { ...(flags.title === undefined ? {} : { title: flags.title }), ...productFields(flags) };
    const patch = {
      product: Object.keys(product).length === 0 ? undefined : product,
      ...variantSettings(flags),
    };
    await runAndPrint(
      ctx(),
      (stockroom) => stockroom.catalog.updateVariant(sku, parse(VariantUpdate, patch)),
      (variant) => `variant ${variant.sku} updated`,
    );
  });
  variant
    .command('show <sku>')
    .description("a variant's settings")
    .action(async (sku: string) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.catalog.getVariant(sku),
        (variant) => JSON.stringify(variant, null, 2),
      );
    });
  variant
    .command('list')
    .description('list variants')
    .option('--query <text>', 'match SKU or title')
    .option('--category <path>', 'only this category and those below it')
    .option('--tag <tag>', 'only products with this tag')
    .option('--limit <n>', 'page size', pageSizeOption)
    .option('--cursor <sku>', 'continue after this SKU')
    .option('--archived', 'the archived ones instead of those in use')
    .action(
      async (options: {
        query?: string;
        category?: string;
        tag?: string;
        limit?: number;
        cursor?: string;
        archived?: boolean;
      }) => {
        await runAndPrint(
          ctx(),
          (stockroom) => stockroom.catalog.listVariants(options),
          (page) =>
            withMoreHint(
              page,
              table(
                ['SKU', 'TITLE', 'POLICY', 'THRESHOLD'],
                page.items.map((variant) => [
                  variant.sku,
                  variant.product.title,
                  variant.backorder.policy,
                  variant.low_stock_threshold,
                ]),
              ),
            ),
        );
      },
    );

  registerArchive(warehouse, variant, ctx);

  program
    .command('bin')
    .description('storage bins')
    .command('add <warehouse> <code>')
    .description('add a bin (aisle-rack-shelf, e.g. A-01-03)')
    .action(async (warehouseCode: string, code: string) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.catalog.addBin({ warehouse: warehouseCode, code }),
        (bin) => `bin ${bin.code} added to ${bin.warehouse}`,
      );
    });
}

/** The product's category and tags, as `variant add` and `variant update` take them. */
interface ProductFlags {
  category?: string;
  tag?: string[];
}

function withProductFlags(command: Command): Command {
  return command
    .option('--category <path>', 'the product\'s category, a path as apparel/shirts ("none" takes it away)')
    .option('--tag <tag>', 'a tag of the product (repeat for several; replaces its tags)', collect);
}

const productFields = (flags: ProductFlags): { category?: string | null; tags?: string[] } => ({
  ...(flags.category === undefined ? {} : { category: flags.category === 'none' ? null : flags.category }),
  ...(flags.tag === undefined ? {} : { tags: flags.tag }),
});

import type { Stockroom } from '../services/stockroom.js';

const PRODUCTS = [
  'Linen Shirt',
  'Oxford Shirt',
  'Flannel Shirt',
  'Polo Shirt',
  'Crew Tee',
  'V-Neck Tee',
  'Henley',
  'Rugby Shirt',
  'Merino Sweater',
  'Cable Knit',
  'Hoodie',
  'Zip Hoodie',
  'Fleece Jacket',
  'Rain Jacket',
  'Denim Jacket',
  'Field Jacket',
  'Puffer Vest',
  'Chino',
  'Selvedge Jeans',
  'Cargo Pants',
  'Track Pants',
  'Shorts',
  'Swim Shorts',
  'Linen Trousers',
  'Wool Beanie',
  'Baseball Cap',
  'Bucket Hat',
  'Scarf',
  'Gloves',
  'Socks 3-Pack',
  'Boxer Briefs',
  'Pyjama Set',
  'Canvas Sneaker',
  'Leather Boot',
  'Running Shoe',
  'Sandal',
  'Slipper',
  'Belt',
  'Wallet',
  'Tote Bag',
  'Backpack',
  'Duffel Bag',
  'Cardigan',
  'Overshirt',
  'Parka',
  'Trench Coat',
  'Blazer',
  'Waistcoat',
  'Tank Top',
  'Sweatshirt',
] as const;
const COLOURS = ['Black', 'Navy', 'Sand'] as const;

/** Where a demo product sits in the catalog's tree (the stock list filters by it, with what is below). */
const CATEGORIES: readonly [RegExp, string][] = [
  [/Shirt|Tee|Polo|Henley|Tank Top|Overshirt/, 'apparel/tops'],
  [/Sweater|Knit|Hoodie|Cardigan|Sweatshirt/, 'apparel/knitwear'],
  [/Jacket|Vest|Parka|Coat|Blazer|Waistcoat/, 'apparel/outerwear'],
  [/Chino|Jeans|Pants|Shorts|Trousers/, 'apparel/bottoms'],
  [/Boxer|Pyjama|Socks/, 'apparel/underwear'],
  [/Sneaker|Boot|Shoe|Sandal|Slipper/, 'footwear'],
  [/Beanie|Cap|Hat|Scarf|Gloves|Belt|Wallet|Bag|Backpack/, 'accessories'],
];
const categoryOf = (title: string): string => CATEGORIES.find(([pattern]) => pattern.test(title))?.[1] ?? 'accessories';
/** A few tags, so the stock list's tag filter has something to find. */
const tagsOf = (productIndex: number): string[] =>
  [productIndex % 5 === 0 ? 'new' : '', productIndex % 7 === 3 ? 'bestseller' : ''].filter((tag) => tag !== '');
const SIZES = ['S', 'M', 'L'] as const;
/** The variant that is not out yet: sold as a pre-order. */
const DEMO_PREORDER_SKU = 'PARKA-ARCTIC-M';

/** What seeding did, and what to try next. */
export interface DemoSeed {
  seeded: boolean;
  warehouses: number;
  variants: number;
  /** one line: what was seeded */
  summary: string;
  /** CLI commands to try (while no server holds the embedded database) */
  hints: string;
}

/** A small deterministic generator, so every demo shows the same shop. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const skuOf = (title: string, colour: string, size: string): string =>
  `${title.toUpperCase().replace(/[^A-Z0-9]+/g, '-')}-${colour.toUpperCase()}-${size}`;

/**
 * Two warehouses, 50 products in three colours and three sizes (450 variants), most in stock, some low,
 * some out, and one pre-order. Everything goes through the use cases, so the ledger explains every number.
 * Seeding a database that already has the demo warehouses does nothing.
 */
export async function seedDemo(stockroom: Stockroom): Promise<DemoSeed> {
  const existing = await stockroom.catalog.listWarehouses();
  if (existing.some((warehouse) => warehouse.code === 'AMS')) {
    return {
      seeded: false,
      warehouses: existing.length,
      variants: -1,
      summary: 'Demo shop already seeded.',
      hints: CLI_HINTS,
    };
  }
  const actor = 'demo';
  await stockroom.catalog.addWarehouse(
    { code: 'AMS', name: 'Amsterdam', lat: 52.37, lon: 4.9, priority: 10 },
    { actor },
  );
  await stockroom.catalog.addWarehouse({ code: 'BER', name: 'Berlin', lat: 52.52, lon: 13.4, priority: 5 }, { actor });
  for (const aisle of ['A', 'B'])
    for (const rack of ['01', '02']) await stockroom.catalog.addBin({ warehouse: 'AMS', code: `${aisle}-${rack}-01` });
  // two suppliers, so that replenishment has somewhere to order from
  await stockroom.purchasing.addSupplier(
    { code: 'NORDTEX', name: 'Nordtex Garments', email: 'orders@nordtex.example', lead_time_days: 7, warehouse: 'AMS' },
    { actor },
  );
  await stockroom.purchasing.addSupplier(
    { code: 'ALPINE', name: 'Alpine Outfitters', email: 'sales@alpine.example', lead_time_days: 12, warehouse: 'BER' },
    { actor },
  );
  const nextRandom = random(42);
  let variants = 0;
  for (const [productIndex, title] of PRODUCTS.entries()) {
    for (const colour of COLOURS) {
      for (const size of SIZES) {
        const sku = skuOf(title, colour, size);
        await stockroom.catalog.addVariant(
          {
            sku,
            product: { title, category: categoryOf(title), tags: tagsOf(productIndex) },
            attributes: { colour, size },
            low_stock_threshold: 5,
            reorder_point: 10,
            reorder_qty: 40,
            supplier: productIndex % 2 === 0 ? 'NORDTEX' : 'ALPINE',
          },
          { actor },
        );
        variants++;
        const roll = nextRandom();
        // about one in ten sold out, one in six nearly so, the rest comfortably stocked
        const ams =
          roll < 0.1 ? 0 : roll < 0.27 ? 1 + Math.floor(nextRandom() * 4) : 10 + Math.floor(nextRandom() * 60);
        const ber = roll < 0.1 ? 0 : Math.floor(nextRandom() * 20);
        if (ams > 0)
          await stockroom.stock.receive(
            {
              sku,
              warehouse: 'AMS',
              qty: ams,
              bin: `${productIndex % 2 === 0 ? 'A' : 'B'}-0${1 + (productIndex % 2)}-01`,
              reference: 'DEMO-SEED',
            },
            { actor },
          );
        if (ber > 0)
          await stockroom.stock.receive({ sku, warehouse: 'BER', qty: ber, reference: 'DEMO-SEED' }, { actor });
      }
    }
  }
  await stockroom.catalog.addVariant(
    {
      sku: DEMO_PREORDER_SKU,
      product: { title: 'Arctic Parka (next season)', category: 'apparel/outerwear', tags: ['new'] },
      attributes: { colour: 'Ice', size: 'M' },
      backorder: { policy: 'preorder', limit: 100, lead_days: 21 },
    },
    { actor },
  );
  return {
    seeded: true,
    warehouses: 2,
    variants: variants + 1,
    summary: 'Demo shop seeded: 2 warehouses (AMS, BER), 2 suppliers, 50 products, 451 variants, one pre-order.',
    hints: CLI_HINTS,
  };
}

const CLI_HINTS = [
  'Try (npx stockroom --help lists everything):',
  '  npx stockroom stock CREW-TEE-BLACK-M',
  '  npx stockroom reserve order-1001 CREW-TEE-BLACK-M:2 HOODIE-NAVY-M:1',
  '  npx stockroom commit <reservation id>      then  npx stockroom fulfil <reservation id>',
  `  npx stockroom reserve order-1002 ${DEMO_PREORDER_SKU}:1      (a pre-order: held below zero, within its limit)`,
  '  npx stockroom reserve order-1003 HOODIE-NAVY-L:1      (sold out: refused, nothing changes)',
  '  npx stockroom movements CREW-TEE-BLACK-M',
  '  npx stockroom replenish --dry-run      (what is at or below its reorder point)',
  '  npx stockroom po list',
  '  npx stockroom alerts',
  '  npx stockroom reconcile',
].join('\n');

/** What a person starting the demo needs: where it is, a key, and something to try. */
export function demoBanner(url: string, key: string, summary: string): string {
  return [
    summary,
    '',
    `API       ${url}/v1   (OpenAPI: ${url}/openapi.json, docs: ${url}/docs, health: ${url}/healthz)`,
    `Admin     ${url}/admin   (the admin console: sign in with the key below)`,
    `Admin key ${key}`,
    `Shop page ${url}/demo/storefront?sku=CREW-TEE-BLACK-M   (live stock label and a real checkout: "Add to cart"`,
    `          holds one with a countdown, Pay commits, Cancel releases; race for the last one from two windows:`,
    `          ${url}/demo/storefront?sku=HOODIE-NAVY-L is sold out, receive 1 in the console first)`,
    '',
    'Try:',
    `  curl -s -H 'Authorization: Bearer ${key}' ${url}/v1/stock/CREW-TEE-BLACK-M`,
    `  curl -s -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`,
    `       -d '{"order_ref":"web-1","lines":[{"sku":"CREW-TEE-BLACK-M","qty":2}]}' ${url}/v1/reservations`,
    `  curl -s -H 'Authorization: Bearer ${key}' ${url}/v1/purchase-orders      (drafted by replenishment at start)`,
    // the seed receives its low levels from nothing: no level fell to its threshold, so no alert is raised yet
    `  curl -s -H 'Authorization: Bearer ${key}' '${url}/v1/stock?status=low'      (running low; a level that falls`,
    `          to its threshold raises a low_stock alert: ${url}/v1/alerts?type=low_stock)`,
    '',
    'Ctrl-C stops the server (the embedded database serves one process: stop it before using the CLI).',
  ].join('\n');
}

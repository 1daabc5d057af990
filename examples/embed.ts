// Mounting stockroom's HTTP API inside a Fastify server of your own (docs/embedding.md).
//
//   npm run build && npx tsx examples/embed.ts
//
// Your shop's routes stay yours; stockroom answers under /inventory (its API at /inventory/v1/..., its OpenAPI
// document at /inventory/openapi.json, /inventory/docs to try it), on the same Stockroom your code calls directly.
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Stockroom, openPglite, stockroomApi } from 'stockroom';
import type { Db } from 'stockroom';

/** The shop: its own route, stockroom mounted under /inventory, and an admin key to call it with. */
export async function startShop(options: { db?: Db; dataDir?: string; port?: number } = {}): Promise<{
  app: FastifyInstance;
  stockroom: Stockroom;
  url: string;
  adminKey: string;
}> {
  // the database given, else an embedded PostgreSQL in a directory (none: in memory); openPostgres(url) opens a server's
  const stockroom = new Stockroom({ db: options.db ?? (await openPglite(options.dataDir)) });
  await stockroom.migrate();
  const { key: adminKey } = await stockroom.keys.create({ name: 'shop admin', scopes: ['admin'] });

  const app = Fastify({ logger: false });
  // the shop's own route reads stock through the library, no HTTP in between
  app.get('/shop/products/:sku', async (request) => {
    const { sku } = request.params as { sku: string };
    const stock = await stockroom.stock.get(sku);
    return { sku, in_stock: stock.total.available > 0 };
  });
  await app.register(stockroomApi, { stockroom, prefix: '/inventory' });
  // the database closes after the server stops taking requests
  app.addHook('onClose', async () => {
    await stockroom.close();
  });

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, stockroom, url: `http://127.0.0.1:${String(port)}`, adminKey };
}

// run as a program: listen on 3000 until stopped
if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const shop = await startShop({ port: 3000 });
  console.log(`shop on ${shop.url}; stockroom on ${shop.url}/inventory/docs; admin key (shown once): ${shop.adminKey}`);
  process.once('SIGINT', () => void shop.app.close());
}

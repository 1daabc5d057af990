import { AvailabilityFeed } from '../services/availability-feed.js';
import { Stockroom } from '../services/stockroom.js';
import { noDatabase } from '../store/no-database.js';
import { buildServer } from './server.js';

/**
 * The OpenAPI document of the API as `stockroom serve` serves it at /openapi.json (the live stream's route
 * included), without listening: what the build writes to dist/openapi.json and generates the client's types from.
 * The document is the routes and their schemas: given no Stockroom, it is built on one with no database behind it.
 */
export async function apiDocument(stockroom?: Stockroom): Promise<Record<string, unknown>> {
  const served = stockroom ?? new Stockroom({ db: noDatabase('the API document reads no data') });
  const app = await buildServer({ stockroom: served, storefront: { feed: new AvailabilityFeed(served.availability) } });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    if (stockroom === undefined) await served.close();
  }
}

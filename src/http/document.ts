import { AvailabilityFeed } from '../services/availability-feed.js';
import type { Stockroom } from '../services/stockroom.js';
import { buildServer } from './server.js';

/**
 * The OpenAPI document of the API as `stockroom serve` serves it at /openapi.json (the live stream's route
 * included), without listening: what the build writes to dist/openapi.json and generates the client's types from.
 */
export async function apiDocument(stockroom: Stockroom): Promise<Record<string, unknown>> {
  const app = await buildServer({ stockroom, storefront: { feed: new AvailabilityFeed(stockroom.availability) } });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

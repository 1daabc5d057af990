import { describe, expect, it } from 'vitest';
import { get } from './support/raw-http.js';
import type { RawReply } from './support/raw-http.js';
import { adminCall, apiCall, useServer } from './support/served.js';

const LIMIT = 5;
const WINDOW_MS = 2_000;

describe('rate limits on the public storefront routes, served by a real process', () => {
  const ctx = useServer('pglite', {
    STOCKROOM_PUBLIC_RATE_LIMIT: String(LIMIT),
    STOCKROOM_PUBLIC_RATE_WINDOW_MS: String(WINDOW_MS),
  });
  const availability = (sku: string) => `${ctx.server.url}/v1/availability?sku=${sku}`;
  const problemOf = async (reply: RawReply) => ({
    status: reply.status,
    type: reply.headers['content-type'],
    cors: reply.headers['access-control-allow-origin'],
    body: JSON.parse(await reply.text()) as { code: string; detail: string },
  });

  it('answers 429 rate_limited with Retry-After past the configured rate on /v1/availability, per client address, and lets the client in again once the window has passed', async () => {
    await adminCall(ctx.server, 'POST', '/v1/variants', { sku: 'RATE-1', product: { title: 'limited' } });
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const reply = await get(availability('RATE-1'), '127.0.0.11');
      statuses.push(reply.status);
      await reply.text();
    }
    expect(statuses).toEqual(Array.from({ length: LIMIT }, () => 200));

    const refused = await get(availability('RATE-1'), '127.0.0.11');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000).toBe(true);
    expect(await problemOf(refused)).toMatchObject({
      status: 429,
      type: 'application/problem+json; charset=utf-8',
      cors: '*', // a storefront page can read why
      body: { code: 'rate_limited', detail: expect.stringContaining(`at most ${LIMIT} requests`) as unknown },
    });
    // the stream's opening counts against the same budget
    const stream = await get(`${ctx.server.url}/v1/availability/stream?sku=RATE-1`, '127.0.0.11');
    expect((await problemOf(stream)).body.code).toBe('rate_limited');

    // another address has a budget of its own, and keyed routes have no such limit
    const other = await get(availability('RATE-1'), '127.0.0.12');
    expect(other.status).toBe(200);
    await other.text();
    for (let i = 0; i < LIMIT + 2; i++) expect((await apiCall(ctx.server, 'GET', '/v1/stock/RATE-1')).status).toBe(200);

    // the window passes (Retry-After said when): the address is let in again
    for (let tries = 0; ; tries++) {
      const again = await get(availability('RATE-1'), '127.0.0.11');
      await again.text();
      if (again.status === 200) break;
      expect(again.status).toBe(429);
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});

import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { SCOPES } from '../src/domain/scopes.js';
import { buildServer, stockroomApi } from '../src/index.js';
import { drivers } from './support/databases.js';
import { useStockroom } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

/** The console's page: where its script is, as the server wrote it into the page. */
const scriptOf = (page: string): string | undefined => /src="([^"]+\/assets\/[^"]+\.js)"/.exec(page)?.[1];

describe.each(drivers())('GET /v1/keys/me: the key of the request, on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  it.each(SCOPES)('answers a key with scope %s its own name and scopes, never its secret', async (scope) => {
    const me = await call('GET', '/v1/keys/me', { scope });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: `${scope} client`, scopes: [scope], revoked_at: null });
    expect(me.body).not.toHaveProperty('key');
  });

  it('is 401 without a key or with a revoked one', async () => {
    const made = await h.s.keys.create({ name: 'short-lived', scopes: ['warehouse'] });
    await h.s.keys.revoke(made.id);
    const app = await buildServer({ stockroom: h.s });
    try {
      const without = await app.inject({ method: 'GET', url: '/v1/keys/me' });
      expect([without.statusCode, without.json<{ code: string }>().code]).toEqual([401, 'unauthorized']);
      const revoked = await app.inject({
        method: 'GET',
        url: '/v1/keys/me',
        headers: { authorization: `Bearer ${made.key}` },
      });
      expect([revoked.statusCode, revoked.json<{ code: string }>().code]).toEqual([401, 'unauthorized']);
    } finally {
      await app.close();
    }
  });
});

describe('the admin console is served by the API server', () => {
  const h = useStockroom('pglite');

  it('points / to /admin, and answers any page below /admin with the console', async () => {
    const app = await buildServer({ stockroom: h.s });
    try {
      const root = await app.inject({ method: 'GET', url: '/' });
      expect(root.statusCode).toBe(200);
      expect(root.body).toContain('<meta http-equiv="refresh" content="0; url=/admin">');
      expect(root.body).toContain('<a href="/admin">');
      for (const path of ['/admin', '/admin/', '/admin/stock?warehouse=AMS&status=low', '/admin/variants/TEE-M']) {
        const page = await app.inject({ method: 'GET', url: path });
        expect(page.statusCode, path).toBe(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        // scripts from this server only: the key in session storage is out of reach of any other origin's code
        expect(page.headers['content-security-policy']).toContain("default-src 'self'");
        expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(scriptOf(page.body), path).toMatch(/^\/admin\/assets\/index-[\w-]+\.js$/);
      }
    } finally {
      await app.close();
    }
  });

  it('stays small: its script under 40 KB gzipped (66 KB, 21 KB gzipped when written; README states it)', async () => {
    const app = await buildServer({ stockroom: h.s });
    try {
      const page = await app.inject({ method: 'GET', url: '/admin' });
      const script = await app.inject({ method: 'GET', url: scriptOf(page.body) ?? '' });
      expect(gzipSync(script.rawPayload).length).toBeLessThan(40 * 1024);
      expect(gzipSync(page.rawPayload).length).toBeLessThan(4 * 1024);
    } finally {
      await app.close();
    }
  });

  it('serves its script, cached for good, and a problem document for a file it does not have', async () => {
    const app = await buildServer({ stockroom: h.s });
    try {
      const page = await app.inject({ method: 'GET', url: '/admin' });
      const script = await app.inject({ method: 'GET', url: scriptOf(page.body) ?? '' });
      expect(script.statusCode).toBe(200);
      expect(script.headers['content-type']).toMatch(/^application\/javascript/);
      expect(script.headers['cache-control']).toContain('immutable');
      // the console reads its key from session storage and sends it as a header: nothing puts it in a URL
      expect(script.body).toContain('sessionStorage');
      expect(script.body).not.toMatch(/[?&](api_)?key=/);
      const missing = await app.inject({ method: 'GET', url: '/admin/assets/nothing.js' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(missing.json<{ code: string }>().code).toBe('not_found');
    } finally {
      await app.close();
    }
  });

  it('mounted under a prefix, points its scripts there, and leaves the host its own /', async () => {
    const host = Fastify();
    await host.register(stockroomApi, { stockroom: h.s, prefix: '/inventory' });
    await host.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(host.server.address() as AddressInfo).port}/inventory`;
      expect((await fetch(`${url}/`)).status).toBe(404);
      const page = await (await fetch(`${url}/admin/stock`)).text();
      const script = scriptOf(page) ?? '';
      expect(script).toMatch(/^\/inventory\/admin\/assets\//);
      expect((await fetch(`http://127.0.0.1:${(host.server.address() as AddressInfo).port}${script}`)).status).toBe(
        200,
      );
    } finally {
      await host.close();
    }
  });

  it('writes the demo checkout key into the storefront page only when it is given one', async () => {
    const plain = await buildServer({ stockroom: h.s });
    const demo = await buildServer({ stockroom: h.s, web: { storefrontCheckoutKey: 'sr_demo_"<checkout>' } });
    try {
      const without = await plain.inject({ method: 'GET', url: '/demo/storefront' });
      expect(without.body).not.toContain('<meta name="stockroom-checkout-key"');
      const withKey = await demo.inject({ method: 'GET', url: '/demo/storefront' });
      // escaped: a key can never break out of the attribute
      expect(withKey.body).toContain(
        '<meta name="stockroom-checkout-key" content="sr_demo_&#34;&#60;checkout&#62;" />',
      );
      expect(withKey.headers['cache-control']).toBe('no-store');
    } finally {
      await plain.close();
      await demo.close();
    }
  });
});

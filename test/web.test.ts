import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { createTestDb } from './support/databases.js';

describe('the storefront widget and demo page', () => {
  it('the widget stays a small plain script: under 5 KB gzipped', () => {
    const widget = readFileSync(new URL('../src/web/widget.js', import.meta.url));
    expect(gzipSync(widget).length).toBeLessThan(5 * 1024);
  });

  it('are served without a key, the widget to pages on any domain', async () => {
    const stockroom = new Stockroom({ db: (await createTestDb('pglite')).db });
    const app = await buildServer({ stockroom });
    try {
      const widget = await app.inject({ method: 'GET', url: '/widget.js' });
      expect(widget.statusCode).toBe(200);
      expect(widget.headers['content-type']).toMatch(/^application\/javascript/);
      expect(widget.headers['access-control-allow-origin']).toBe('*');
      expect(widget.body).toContain('data-stockroom-sku');
      const page = await app.inject({ method: 'GET', url: '/demo/storefront' });
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('<script src="/widget.js"></script>');
    } finally {
      await app.close();
      await stockroom.close();
    }
  });
});

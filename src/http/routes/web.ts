import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/** The storefront widget and the demo product page, read once from beside the compiled code. */
export function webRoutes() {
  const widget = readFileSync(new URL('../../web/widget.js', import.meta.url), 'utf8');
  const storefront = readFileSync(new URL('../../web/storefront.html', import.meta.url), 'utf8');
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/widget.js',
      { schema: { tags: ['storefront'], summary: 'The storefront widget: live labels and buy buttons', security: [] } },
      async (_req, reply) =>
        reply
          .type('application/javascript; charset=utf-8')
          // any store's pages may load it; a short cache, so a new version reaches shoppers within minutes
          .header('access-control-allow-origin', '*')
          .header('cache-control', 'public, max-age=300')
          .send(widget),
    );
    app.get(
      '/demo/storefront',
      { schema: { tags: ['storefront'], summary: 'A demo product page that uses the widget', security: [] } },
      async (_req, reply) => reply.type('text/html; charset=utf-8').send(storefront),
    );
  };
}

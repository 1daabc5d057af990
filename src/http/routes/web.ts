import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { routeOptions } from './route-options.js';

/** The storefront widget and the demo product page, read once from beside the compiled code. */
export function webRoutes() {
  const widget = readFileSync(new URL('../../web/widget.js', import.meta.url), 'utf8');
  const storefront = readFileSync(new URL('../../web/storefront.html', import.meta.url), 'utf8');
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/widget.js',
      routeOptions('storefront', 'public', 'The storefront widget: live labels and buy buttons', {
        operationId: 'getWidget',
        answer: { type: 'application/javascript', description: 'The script, for a script tag on the pages of a store' },
      }),
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
      routeOptions('storefront', 'public', 'A demo product page that uses the widget', {
        operationId: 'getDemoStorefront',
        answer: { type: 'text/html', description: 'The page' },
      }),
      async (_req, reply) => reply.type('text/html; charset=utf-8').send(storefront),
    );
  };
}

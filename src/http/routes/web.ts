import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import Type from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';
import { routeOptions } from './route-options.js';

/** What the web pages need besides the files: the demo storefront's checkout key. */
export interface WebOptions {
  /**
   * A key with scope checkout that the demo storefront page uses to reserve, pay (commit) and cancel. `stockroom
   * demo` makes one; without it the page asks the visitor for a key. It is written into the page for anyone who
   * opens it: a demo on loopback only, never a store's real key.
   */
  storefrontCheckoutKey?: string | undefined;
  /**
   * Serve `/` too (a page that goes on to the admin console): a stockroom server does; a host that mounts the API
   * (stockroomApi) keeps its own `/` unless it asks for this.
   */
  home?: boolean | undefined;
}

/** The admin console as built by `npm run build` (vite): its page and its scripts, read once at start. */
interface AdminConsole {
  page: string;
  assets: Map<string, Buffer>;
}

/**
 * The built console sits in dist/web/admin. src/http/routes and dist/http/routes are both three folders below the
 * package, so the same relative path finds it from the compiled server and from the sources (tests, tsx).
 */
const ADMIN_DIR = new URL('../../../dist/web/admin/', import.meta.url);

const ASSET_TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page says so when the console was not built (the server still serves the API). */
const NOT_BUILT =
  '<!doctype html><html lang="en"><meta charset="utf-8"><title>stockroom admin</title>' +
  '<p>The admin console is not built: run <code>npm run build</code>.</p></html>';

// scripts and styles only from this server; the key lives in sessionStorage, so no other origin may run code here
const ADMIN_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

function readAdminConsole(prefix: string): AdminConsole | undefined {
  const index = new URL('index.html', ADMIN_DIR);
  if (!existsSync(index)) return undefined;
  const assetsDir = new URL('assets/', ADMIN_DIR);
  const assets = new Map<string, Buffer>();
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) assets.set(name, readFileSync(new URL(name, assetsDir)));
  }
  // built for /admin/; mounted under a prefix (docs/embedding.md), its scripts are there
  return { page: readFileSync(index, 'utf8').replaceAll('"/admin/', `"${prefix}/admin/`), assets };
}

/** A control character (C0, DEL or C1): no name of a page or a file holds one. */
const CONTROL = /\p{Cc}/u;

const escapeAttribute = (text: string): string => text.replace(/[&"<>]/g, (char) => `&#${String(char.charCodeAt(0))};`);

/** The storefront widget, the demo product page and the admin console, read once from beside the compiled code. */
export function webRoutes(options: WebOptions = {}) {
  const widget = readFileSync(new URL('../../web/widget.js', import.meta.url), 'utf8');
  const page = readFileSync(new URL('../../web/storefront.html', import.meta.url), 'utf8');
  const storefront = options.storefrontCheckoutKey
    ? page.replace(
        '</head>',
        `  <meta name="stockroom-checkout-key" content="${escapeAttribute(options.storefrontCheckoutKey)}" />\n  </head>`,
      )
    : page;
  return async (app: FastifyInstance): Promise<void> => {
    const admin = readAdminConsole(app.prefix);
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
      routeOptions('storefront', 'public', 'A demo product page that uses the widget, with a checkout', {
        operationId: 'getDemoStorefront',
        answer: { type: 'text/html', description: 'The page' },
      }),
      async (_req, reply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(storefront),
    );

    // a page rather than a 302, so that `/` has a success of its own in the document; it goes on at once
    const home = `${app.prefix}/admin`;
    if (options.home)
      app.get(
        '/',
        routeOptions('operations', 'public', 'Points to the admin console (/admin)', {
          operationId: 'getHome',
          answer: { type: 'text/html', description: 'A page that goes on to /admin at once, and links to it' },
        }),
        async (_req, reply) =>
          reply
            .type('text/html; charset=utf-8')
            .header('content-security-policy', ADMIN_CSP)
            .send(
              `<!doctype html><html lang="en"><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${home}">` +
                `<title>stockroom</title><p><a href="${home}">stockroom admin console</a> · <a href="${app.prefix}/docs">API docs</a></p></html>`,
            ),
      );
    const sendConsole = async (req: FastifyRequest, reply: FastifyReply) => {
      // the page is the same for every path, so a path no page could have (%00, %0A) would otherwise answer 200 too
      if (Object.values(req.params as Record<string, string>).some((segment) => CONTROL.test(segment)))
        throw new HttpError(
          'not_found',
          `no admin console page ${req.url.split('?')[0] ?? ''}: it holds a control character`,
        );
      return (
        reply
          .type('text/html; charset=utf-8')
          // the page names the current build's scripts: always asked for afresh
          .header('cache-control', 'no-cache')
          .header('content-security-policy', ADMIN_CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .send(admin?.page ?? NOT_BUILT)
      );
    };
    app.get(
      '/admin',
      routeOptions('operations', 'public', 'The admin console (sign in with an API key)', {
        operationId: 'getAdminConsole',
        answer: { type: 'text/html', description: 'The page; it signs in with a key kept in session storage' },
      }),
      sendConsole,
    );
    app.get(
      '/admin/assets/:file',
      routeOptions('operations', 'public', "The admin console's scripts (named by their content: cached for good)", {
        operationId: 'getAdminConsoleAsset',
        params: Type.Object({ file: Type.String() }),
        answer: { type: 'application/javascript', description: 'The script' },
        refusals: ['not_found'],
      }),
      async (req, reply) => {
        const { file } = req.params as { file: string };
        const asset = admin?.assets.get(file);
        if (!asset) throw new HttpError('not_found', `no admin console file ${file}`);
        return reply
          .type(ASSET_TYPES[extname(file)] ?? 'application/octet-stream')
          .header('cache-control', 'public, max-age=31536000, immutable')
          .header('x-content-type-options', 'nosniff')
          .send(asset);
      },
    );
    // the console routes in the browser: each of its pages (/admin/stock, /admin/variants/TEE-M) is the same page
    app.get(
      '/admin/:page',
      routeOptions('operations', 'public', 'A page of the admin console (the same page: it routes in the browser)', {
        operationId: 'getAdminConsolePage',
        params: Type.Object({ page: Type.String() }),
        answer: { type: 'text/html', description: 'The page' },
        refusals: ['not_found'],
      }),
      sendConsole,
    );
    app.get(
      '/admin/:page/:item',
      routeOptions('operations', 'public', "A page of one item in the admin console (a variant's)", {
        operationId: 'getAdminConsoleItemPage',
        params: Type.Object({ page: Type.String(), item: Type.String() }),
        answer: { type: 'text/html', description: 'The page' },
        refusals: ['not_found'],
      }),
      sendConsole,
    );
  };
}

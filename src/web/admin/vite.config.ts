import { defineConfig } from 'vite';

/**
 * The admin console: Preact, built by `npm run build` (run from the package's folder) into dist/web/admin, which
 * the server serves at /admin (src/http/routes/web.ts). One script and the page; the styles are in the page.
 */
// eslint-disable-next-line no-restricted-syntax -- vite reads its configuration from the default export
export default defineConfig({
  root: 'src/web/admin',
  base: '/admin/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../../dist/web/admin',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});

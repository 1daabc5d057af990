// tsc compiles TypeScript only: the SQL migrations and the web assets (widget, demo page) are copied beside the
// compiled modules that read them. The admin console's sources are not: vite builds them into dist/web/admin.
import { cpSync, rmSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const adminSources = fileURLToPath(new URL('../src/web/admin', import.meta.url));

for (const dir of ['store/migrations', 'web']) {
  // copied afresh: a migration renamed or removed in src must not linger in dist and run a second time
  rmSync(new URL(`../dist/${dir}`, import.meta.url), { recursive: true, force: true });
  cpSync(new URL(`../src/${dir}`, import.meta.url), new URL(`../dist/${dir}`, import.meta.url), {
    recursive: true,
    filter: (source) => source !== adminSources && !source.startsWith(adminSources + sep),
  });
}

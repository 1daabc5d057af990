// tsc compiles TypeScript only: the SQL migrations and the web assets (widget, demo page) are copied beside the
// compiled modules that read them.
import { cpSync, rmSync } from 'node:fs';

for (const dir of ['store/migrations', 'web']) {
  // copied afresh: a migration renamed or removed in src must not linger in dist and run a second time
  rmSync(new URL(`../dist/${dir}`, import.meta.url), { recursive: true, force: true });
  cpSync(new URL(`../src/${dir}`, import.meta.url), new URL(`../dist/${dir}`, import.meta.url), { recursive: true });
}

// tsc compiles TypeScript only: the SQL migrations and the web assets (widget, demo page) are copied beside the
// compiled modules that read them.
import { cpSync } from 'node:fs';

for (const dir of ['store/migrations', 'web']) {
  cpSync(new URL(`../src/${dir}`, import.meta.url), new URL(`../dist/${dir}`, import.meta.url), { recursive: true });
}

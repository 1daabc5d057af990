import type { Command } from 'commander';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

export function registerKeys(program: Command, ctx: () => CommandContext): void {
  const keys = program.command('keys').description('API keys');
  keys
    .command('create')
    .description('create a key; it is printed once and stored only as a salted hash')
    .requiredOption('--name <name>', 'who or what uses it')
    .requiredOption('--scopes <list>', 'comma-separated: storefront, checkout, warehouse, metrics, admin')
    .action(async (o: { name: string; scopes: string }) => {
      const c = ctx();
      const k = await withStockroom(c.env, (s) =>
        s.keys.create({
          name: o.name,
          scopes: o.scopes
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        }),
      );
      c.print(
        k,
        `${k.key}\n(key ${k.prefix} "${k.name}" with scopes ${k.scopes.join(', ')}: store it now, it is not shown again)`,
      );
    });
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .action(async () => {
      const c = ctx();
      const list = await withStockroom(c.env, (s) => s.keys.list());
      c.print(list, () =>
        table(
          ['ID', 'PREFIX', 'NAME', 'SCOPES', 'CREATED', 'REVOKED'],
          list.map((k) => [k.id, k.prefix, k.name, k.scopes.join(','), k.created_at, k.revoked_at]),
        ),
      );
    });
  keys
    .command('revoke <id>')
    .description('revoke a key at once, by its id (keys list shows it)')
    .action(async (id: string) => {
      const c = ctx();
      const k = await withStockroom(c.env, (s) => s.keys.revoke(id));
      c.print(k, `key ${k.prefix} "${k.name}" revoked`);
    });
}

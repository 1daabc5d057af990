import type { Command } from 'commander';
import { commaList } from './args.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

/** `stockroom keys`: API keys, created (shown once), listed and revoked. */
export function registerKeys(program: Command, ctx: () => CommandContext): void {
  const keys = program.command('keys').description('API keys');
  keys
    .command('create')
    .description('create a key; it is printed once and stored only as a salted hash')
    .requiredOption('--name <name>', 'who or what uses it')
    .requiredOption('--scopes <list>', 'comma-separated: storefront, checkout, warehouse, metrics, admin')
    .action(async (options: { name: string; scopes: string }) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.keys.create({ name: options.name, scopes: commaList(options.scopes) }),
        (created) =>
          `${created.key}\n(key ${created.prefix} "${created.name}" with scopes ${created.scopes.join(', ')}: store it now, it is not shown again)`,
      );
    });
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .action(async () => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.keys.list(),
        (list) =>
          table(
            ['ID', 'PREFIX', 'NAME', 'SCOPES', 'ORIGIN', 'CREATED', 'REVOKED'],
            list.map((key) => [
              key.id,
              key.prefix,
              key.name,
              key.scopes.join(','),
              key.origin, // operator: STOCKROOM_ADMIN_KEY, which rotation revokes by this id
              key.created_at,
              key.revoked_at,
            ]),
          ),
      );
    });
  keys
    .command('revoke <id>')
    .description('revoke a key at once, by its id (keys list shows it)')
    .action(async (id: string) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.keys.revoke(id),
        (revoked) => `key ${revoked.prefix} "${revoked.name}" revoked`,
      );
    });
}

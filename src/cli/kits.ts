import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';

/** `--component SKU:QTY`, once per component: the pairs so far plus this one. */
function componentOption(value: string, previous: { sku: string; qty: number }[] = []): { sku: string; qty: number }[] {
  const match = /^(\S+):(\d+)$/.exec(value);
  if (!match?.[1] || !match[2]) throw new InvalidArgumentError(`${value}: give SKU:QTY, e.g. MUG:2`);
  return [...previous, { sku: match[1], qty: Number(match[2]) }];
}

/** `stockroom kits`: SKUs sold as a set of other SKUs, holding no stock of their own. */
export function registerKits(program: Command, ctx: () => CommandContext): void {
  const kits = program.command('kits').description('kit SKUs made of components');
  kits
    .command('define <sku>')
    .description('make a variant a kit of components (or give a kit new ones)')
    .requiredOption('--component <sku:qty>', 'a component and how many go into one kit (repeat)', componentOption)
    .action(async (sku: string, options: { component: { sku: string; qty: number }[] }) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.kits.define(sku, { components: options.component }, call),
        (kit) =>
          `kit ${kit.sku}: ${kit.components.map((component) => `${component.qty} x ${component.sku}`).join(', ')}`,
      );
    });
  kits
    .command('list')
    .description('every kit with its components')
    .action(async () => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.kits.list(),
        (list) =>
          table(
            ['KIT', 'COMPONENTS'],
            list.map((kit) => [
              kit.sku,
              kit.components.map((component) => `${component.qty} x ${component.sku}`).join(', '),
            ]),
          ),
      );
    });
  kits
    .command('remove <sku>')
    .description('make a kit a plain variant again')
    .action(async (sku: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.kits.remove(sku, call).then(() => ({ sku, removed: true })),
        () => `${sku} is no longer a kit`,
      );
    });
}

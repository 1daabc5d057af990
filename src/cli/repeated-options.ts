import type { Command } from 'commander';
import { EXIT } from './exit-codes.js';

/**
 * Refuses an option given twice on any command of the program (`--reference a --reference b`, `--limit 1 --limit
 * 2`, `--output a --output b`), naming it, as the API refuses a parameter or header given twice: commander would keep
 * the last, and which one was meant is not guessed. Options meant to repeat keep working: a variadic one
 * (`--cost A=1 B=2`, `--sku A --sku B`) or one whose parser collects its values (`--attr`, `--tag`, `--component`).
 * They are told apart by what a second value does: it adds to the values given before rather than replacing them,
 * so no list of them is kept here that a new option could be missing from.
 */
export function refuseRepeatedOptions(program: Command): void {
  for (const command of withSubcommands(program)) {
    for (const option of command.options) {
      let given = false;
      let before: unknown;
      // listened to after commander's own listener (added with the option), so the value is already the new one
      command.on(`option:${option.name()}`, () => {
        const now: unknown = command.getOptionValue(option.attributeName());
        if (given && !addsTo(before, now))
          command.error(`error: option '${option.flags}' was given more than once; give it once`, {
            code: 'stockroom.repeatedOption',
            exitCode: EXIT.usage,
          });
        given = true;
        before = Array.isArray(now) ? [...(now as unknown[])] : now;
      });
    }
  }
}

/** A command and every command below it. */
function withSubcommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(withSubcommands)];
}

/** Whether `now` is the values given `before` and more: a value collected, not one replacing the last. */
function addsTo(before: unknown, now: unknown): boolean {
  if (!Array.isArray(before) || !Array.isArray(now) || now.length <= before.length) return false;
  return before.every((value, i) => Object.is(value, now[i]));
}

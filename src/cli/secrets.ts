import type { Command } from 'commander';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';

/** `stockroom secrets reseal`: the secrets sealed at rest, sealed anew when STOCKROOM_SECRET_KEY changes. */
export function registerSecrets(program: Command, ctx: () => CommandContext): void {
  program
    .command('secrets')
    .description('secrets sealed at rest with STOCKROOM_SECRET_KEY (channel and sync source secrets)')
    .command('reseal')
    .description(
      'seal every channel and sync source secret with STOCKROOM_SECRET_KEY: from STOCKROOM_PREVIOUS_SECRET_KEY ' +
        '(the key rotated from) or as stored before a key was set; all or nothing, and safe to run again',
    )
    .action(async () => {
      const context = ctx();
      // the keys come from the environment only: a key on the command line would show in the process list
      await runAndPrint(
        context,
        (stockroom) => stockroom.secrets.reseal(context.env.STOCKROOM_PREVIOUS_SECRET_KEY || undefined),
        ({ channels, sync_sources: sources }) =>
          `sealed with STOCKROOM_SECRET_KEY: ${channels.resealed} channel(s) and ${sources.resealed} sync source(s) ` +
          `anew, ${channels.already} and ${sources.already} already` +
          (channels.removed_unreadable > 0
            ? `; ${channels.removed_unreadable} removed channel(s) neither key opens, left as they were`
            : ''),
      );
    });
}

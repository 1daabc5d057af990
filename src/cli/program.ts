import { Command, CommanderError } from 'commander';
import { ValidationError } from '../domain/errors.js';
import type { StockroomError } from '../domain/errors.js';
import { asStockroomError } from '../store/failures.js';
import { registerAlerts } from './alerts.js';
import { registerCatalog } from './catalog.js';
import { registerChannels } from './channels.js';
import { defaultActor } from './context.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { registerDeliveries } from './deliveries.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { registerKeys } from './keys.js';
import { registerMaintenance } from './maintenance.js';
import type { Io } from './io.js';
import { registerPurchaseOrders } from './purchase-orders.js';
import { registerReplenishment } from './replenishment.js';
import { registerReservations } from './reservations.js';
import { registerBulk, registerStock } from './stock.js';
import { registerSuppliers } from './suppliers.js';
import { registerSync } from './sync.js';

/** The `stockroom` command with every subcommand; `state.exitCode` is set by a command that ends with a finding. */
function createProgram(io: Io, env: NodeJS.ProcessEnv, state: { exitCode: number } = { exitCode: EXIT.ok }): Command {
  const program = new Command('stockroom')
    .description(
      'Inventory engine for online stores. Uses DATABASE_URL (PostgreSQL) or the embedded database in STOCKROOM_DATA (default ./.stockroom).',
    )
    .option('--json', 'print results as JSON')
    .option('--actor <name>', 'who is acting, recorded on ledger rows', defaultActor())
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const ctx = (): CommandContext => {
    const globalOptions = program.opts<GlobalOptions>();
    return {
      io,
      env,
      actor: globalOptions.actor ?? defaultActor(),
      exit: (code) => {
        state.exitCode = code;
      },
      print: (result, human) => {
        io.out(globalOptions.json ? JSON.stringify(result, null, 2) : typeof human === 'string' ? human : human());
      },
    };
  };
  registerCatalog(program, ctx);
  registerStock(program, ctx);
  registerBulk(program, ctx);
  registerSync(program, ctx);
  registerReservations(program, ctx);
  registerKeys(program, ctx);
  registerAlerts(program, ctx);
  registerChannels(program, ctx);
  registerDeliveries(program, ctx);
  registerSuppliers(program, ctx);
  registerPurchaseOrders(program, ctx);
  registerReplenishment(program, ctx);
  registerMaintenance(program, ctx);
  return program;
}

/** Runs one command line; returns the exit code instead of exiting, so tests can run it in-process. */
export async function run(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const state = { exitCode: EXIT.ok as number };
  const program = createProgram(io, env, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    return report(error, io, program.opts<GlobalOptions>().json === true);
  }
}

/** Prints what went wrong and returns the exit code its HTTP status maps to (exit-codes.ts). */
function report(error: unknown, io: Io, json: boolean): number {
  if (error instanceof CommanderError) {
    // commander has printed its message already; help and version are not failures
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const known = asStockroomError(error);
  if (!known) {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failure;
  }
  if (json) io.err(JSON.stringify({ code: known.code, detail: known.message, ...known.extra }, null, 2));
  else io.err(humanReport(known, known === error ? undefined : error));
  return exitCodeForStatus(known.status);
}

/**
 * The message for a person: each invalid place on its line; a refusal with its code (docs/api.md lists them); a
 * failure of this process's setting (500) alone, since it says what to do. A database failure also names its
 * driver's own message (which host, which file), which an HTTP client is never shown.
 */
function humanReport(error: StockroomError, cause: unknown): string {
  if (error instanceof ValidationError)
    return `error: invalid input\n${error.errors.map((field) => `  ${field.path || '(input)'}: ${field.message}`).join('\n')}`;
  const because = cause instanceof Error ? ` (${cause.message})` : '';
  return error.status === 500
    ? `error: ${error.message}${because}`
    : `error: ${error.message}${because} [${error.code}]`;
}

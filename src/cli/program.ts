import { Command, CommanderError } from 'commander';
import { StockroomError, ValidationError } from '../domain/errors.js';
import { registerAlerts } from './alerts.js';
import { registerCatalog } from './catalog.js';
import { registerChannels } from './channels.js';
import { SchemaBehindError, defaultActor } from './context.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { registerDeliveries } from './deliveries.js';
import { registerKeys } from './keys.js';
import { registerMaintenance } from './maintenance.js';
import type { Io } from './output.js';
import { registerPurchaseOrders } from './purchase-orders.js';
import { registerReplenishment } from './replenishment.js';
import { registerReservations } from './reservations.js';
import { registerBulk, registerStock } from './stock.js';
import { registerSuppliers } from './suppliers.js';
import { registerSync } from './sync.js';

/** Exit codes: 0 done; 1 refused by the rules (insufficient stock, invalid transition, ...); 2 bad input; 3 failure. */
export const EXIT = { ok: 0, refused: 1, usage: 2, failure: 3 } as const;

export function createProgram(
  io: Io,
  env: NodeJS.ProcessEnv,
  state: { exitCode: number } = { exitCode: EXIT.ok },
): Command {
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
    const g = program.opts<GlobalOptions>();
    return {
      io,
      env,
      actor: g.actor ?? defaultActor(),
      exit: (code) => {
        state.exitCode = code;
      },
      print: (result, human) => {
        io.out(g.json ? JSON.stringify(result, null, 2) : typeof human === 'string' ? human : human());
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

function report(error: unknown, io: Io, json: boolean): number {
  if (error instanceof CommanderError) {
    // commander has printed its message already; help and version are not failures
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof StockroomError) {
    if (json) io.err(JSON.stringify({ code: error.code, detail: error.message, ...error.extra }, null, 2));
    else if (error instanceof ValidationError)
      io.err(`error: invalid input\n${error.errors.map((e) => `  ${e.path || '(input)'}: ${e.message}`).join('\n')}`);
    else io.err(`error: ${error.message} [${error.code}]`);
    return error instanceof ValidationError ? EXIT.usage : EXIT.refused;
  }
  if (error instanceof SchemaBehindError) {
    io.err(`error: ${error.message}`);
    return EXIT.failure;
  }
  io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.failure;
}

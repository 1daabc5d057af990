import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ValidationError } from '../domain/errors.js';
import type { StockroomError } from '../domain/errors.js';
import { asStockroomError } from '../store/failures.js';
import { registerAlerts } from './alerts.js';
import { actorOption } from './args.js';
import { registerCatalog } from './catalog.js';
import { registerChannels } from './channels.js';
import { defaultActor } from './context.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { registerDb } from './db.js';
import { registerDeliveries } from './deliveries.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { registerKeys } from './keys.js';
import { registerLocations } from './locations.js';
import { registerKits } from './kits.js';
import { registerMaintenance } from './maintenance.js';
import type { Io } from './io.js';
import { registerPurchaseOrders } from './purchase-orders.js';
import { refuseRepeatedOptions } from './repeated-options.js';
import { registerReplenishment } from './replenishment.js';
import { registerReservations } from './reservations.js';
import { registerSecrets } from './secrets.js';
import { registerBulk, registerStock } from './stock.js';
import { registerSuppliers } from './suppliers.js';
import { registerSync } from './sync.js';
import { registerValuation } from './valuation.js';

/** This package's version, from its package.json (two folders up from src/cli/ and from dist/cli/ alike). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** The `stockroom` command with every subcommand; `state.exitCode` is set by a command that ends with a finding. */
function createProgram(
  io: Io,
  env: NodeJS.ProcessEnv,
  state: { exitCode: number } = { exitCode: EXIT.ok },
  json = false,
): Command {
  const program = new Command('stockroom')
    .version(packageVersion(), '-V, --version', 'print the version')
    .description(
      'Inventory engine for online stores. Uses DATABASE_URL (PostgreSQL) or the embedded database in STOCKROOM_DATA (default ./.stockroom).',
    )
    .option('--json', 'print results as JSON')
    .option('--actor <name>', 'who is acting, recorded on ledger rows (1-200 characters)', actorOption, defaultActor())
    // with --json a usage error is printed once, as JSON on stdout (see report), not also as commander's line
    .configureOutput({ writeOut: io.out, writeErr: io.err, ...(json ? { outputError: () => undefined } : {}) })
    .exitOverride()
    .showHelpAfterError(json ? false : '(run with --help for usage)');

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
  registerKits(program, ctx);
  registerStock(program, ctx);
  registerLocations(program, ctx);
  registerBulk(program, ctx);
  registerSync(program, ctx);
  registerReservations(program, ctx);
  registerKeys(program, ctx);
  registerAlerts(program, ctx);
  registerChannels(program, ctx);
  registerSecrets(program, ctx);
  registerDeliveries(program, ctx);
  registerSuppliers(program, ctx);
  registerPurchaseOrders(program, ctx);
  registerReplenishment(program, ctx);
  registerValuation(program, ctx);
  registerMaintenance(program, ctx);
  registerDb(program, ctx);
  refuseRepeatedOptions(program);
  return program;
}

/** Runs one command line; returns the exit code instead of exiting, so tests can run it in-process. */
export async function run(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const state = { exitCode: EXIT.ok as number };
  // known before parsing, so that an error commander finds in the command line itself is JSON too
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  const program = createProgram(io, env, state, json);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    return report(error, io, json || program.opts<GlobalOptions>().json === true);
  }
}

/**
 * What a value thrown that is no StockroomError says: an Error's message, or the message or name of an object a
 * library threw as it is (PGlite throws its runtime's errors so), never "[object Object]".
 */
function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) {
    const { message, name, errno, code } = error as Record<string, unknown>;
    if (typeof message === 'string' && message !== '') return message;
    // the name and error numbers only: the object itself may be circular, or hold a setting such as a URL
    const numbers = [errno, code].filter((field) => typeof field === 'number' || typeof field === 'string');
    return [typeof name === 'string' ? name : 'an object with no message', ...numbers.map(String)].join(' ');
  }
  return String(error);
}

/**
 * Prints what went wrong and returns the exit code its HTTP status maps to (exit-codes.ts). With --json it is one
 * JSON document on stdout, `{ code, detail, ...extra }` as a problem document has them: a script reads the
 * answer of a command from one place, whether it succeeded or not, and tells them apart by the exit code.
 */
function report(error: unknown, io: Io, json: boolean): number {
  // a parser's refusal that escaped a command's action: commander only says what is wrong when it calls the parser
  // itself (for an option or argument it declares), so it is said here, as any invalid input is
  if (error instanceof InvalidArgumentError) {
    const invalid = ValidationError.field('', error.message);
    if (json) printJson(io, invalid);
    else io.err(humanReport(invalid, undefined));
    return EXIT.usage;
  }
  if (error instanceof CommanderError) {
    // help and version are not failures; otherwise commander has said what is wrong (without --json)
    if (error.exitCode === 0) return EXIT.ok;
    if (json) printJson(io, ValidationError.field('', error.message.replace(/^error: /, '')));
    return EXIT.usage;
  }
  const known = asStockroomError(error);
  if (!known) {
    const message = describeThrown(error);
    if (json) io.out(JSON.stringify({ code: 'internal_error', detail: message }, null, 2));
    else io.err(`error: ${message}`);
    return EXIT.failure;
  }
  if (json) printJson(io, known);
  else io.err(humanReport(known, known === error ? undefined : error));
  return exitCodeForStatus(known.status);
}

/** An error as --json prints it: its code, its message as the detail, and what its problem document adds. */
function printJson(io: Io, error: StockroomError): void {
  io.out(JSON.stringify({ code: error.code, detail: error.message, ...error.extra }, null, 2));
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

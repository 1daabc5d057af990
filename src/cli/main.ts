import { rawArguments, unreadableArguments } from './argv.js';
import { processIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { run } from './program.js';

// An error nothing caught ends the process with one message and its stack: never with the line of minified
// library source that Node prints around an uncaught throw (208 KB of PGlite's, once).
const fatal = (error: unknown): void => {
  processIo.err(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(EXIT.failure);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

const argv = process.argv.slice(2);
// Here, where the command line comes in as Node decoded it, for every command at once: an argument that arrived as
// bytes that are not UTF-8 is refused before any command runs (argv.ts says how they are told apart). It is said as
// run() says a validation error (program.ts, report): one line per place, or with --json one document on stdout.
const unreadable = unreadableArguments(argv, () => rawArguments(argv.length));
if (unreadable) {
  if (argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json'))
    processIo.out(JSON.stringify({ code: unreadable.code, detail: unreadable.message, ...unreadable.extra }, null, 2));
  else processIo.err(`error: invalid input\n${unreadable.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  process.exitCode = EXIT.usage;
} else {
  process.exitCode = await run(argv, processIo, process.env);
}

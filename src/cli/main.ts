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

process.exitCode = await run(process.argv.slice(2), processIo, process.env);

import { processIo } from './output.js';
import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2), processIo, process.env);

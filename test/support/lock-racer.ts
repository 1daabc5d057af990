// A process racing others for the locks of many data directories, each left by a dead process. It says "ready" once
// loaded, reads the first round's time (ms since the epoch) on a line of stdin, and at each round's moment (argv:
// folder, rounds) takes the round's lock or is refused, and says which on a line. Then it says "done" and holds what
// it took until stdin closes: a racer that exited while another still raced would leave locks of a dead process,
// which the late one would rightly take.
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { DataDirInUseError } from '../../src/domain/errors.js';
import { lockDataDir } from '../../src/store/data-dir-lock.js';

const [dir = '', rounds = '0'] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
const start = Number((await lines.next()).value);
for (let round = 0; round < Number(rounds); round++) {
  const at = start + round * 25;
  while (Date.now() < at);
  try {
    await lockDataDir(join(dir, `r${round}`));
    process.stdout.write(`${round} took\n`);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    process.stdout.write(`${round} refused\n`);
  }
}
process.stdout.write('done\n');
await lines.next();

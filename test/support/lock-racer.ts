// A process racing others for the locks of many data directories, each left by a dead process: at each round's
// moment (argv: folder, rounds, the first round's time in ms since the epoch) it takes the round's lock or is
// refused, says which on a line, and holds what it took until every round is done.
import { join } from 'node:path';
import { DataDirInUseError } from '../../src/domain/errors.js';
import { lockDataDir } from '../../src/store/data-dir-lock.js';

const [dir = '', rounds = '0', start = '0'] = process.argv.slice(2);
for (let round = 0; round < Number(rounds); round++) {
  const at = Number(start) + round * 25;
  while (Date.now() < at);
  try {
    await lockDataDir(join(dir, `r${round}`));
    process.stdout.write(`${round} took\n`);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    process.stdout.write(`${round} refused\n`);
  }
}

// A process racing others for the locks of many data directories, each left by a dead process. It says "ready" once
// loaded, reads the first round's time (ms since the epoch) on stdin, and at each round's moment (argv: folder,
// rounds) takes the round's lock or is refused, says which on a line, and holds what it took until every round is
// done.
import { once } from 'node:events';
import { join } from 'node:path';
import { DataDirInUseError } from '../../src/domain/errors.js';
import { lockDataDir } from '../../src/store/data-dir-lock.js';

const [dir = '', rounds = '0'] = process.argv.slice(2);
process.stdout.write('ready\n');
const [start] = (await once(process.stdin, 'data')) as [Buffer];
process.stdin.destroy();
for (let round = 0; round < Number(rounds); round++) {
  const at = Number(start.toString()) + round * 25;
  while (Date.now() < at);
  try {
    await lockDataDir(join(dir, `r${round}`));
    process.stdout.write(`${round} took\n`);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    process.stdout.write(`${round} refused\n`);
  }
}

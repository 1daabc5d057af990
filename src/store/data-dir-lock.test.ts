import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirInUseError } from '../domain/errors.js';
import { lockDataDir } from './data-dir-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'stockroom-lock-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
const startedAt = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
};

const DEAD = '2147483646';

describe('the lock of an embedded data directory', () => {
  it('names its holder by pid and start time, refuses this process while it holds it, and is taken again once let go', async () => {
    const data = join(dir, 'own');
    const unlock = await lockDataDir(data);
    expect(readFileSync(`${data}.lock`, 'utf8')).toBe(`${process.pid} ${startedAt(process.pid)}`);
    await expect(lockDataDir(data)).rejects.toThrow(DataDirInUseError);
    unlock();
    expect(existsSync(`${data}.lock`)).toBe(false);
    (await lockDataDir(data))();
  });

  it('is refused while the process it names lives', async () => {
    const data = join(dir, 'parent');
    writeFileSync(`${data}.lock`, `${process.ppid} ${startedAt(process.ppid)}`);
    await expect(lockDataDir(data)).rejects.toThrow(new DataDirInUseError(data, process.ppid));
    // a lock of an older version, the pid alone
    writeFileSync(`${data}.lock`, String(process.ppid));
    await expect(lockDataDir(data)).rejects.toThrow(DataDirInUseError);
  });

  it('is taken over from a process that died, or one whose pid a new process has (a reboot, a restarted container)', async () => {
    const left = [
      DEAD,
      `${DEAD} 12345`,
      '',
      'not a pid',
      // a live pid that started at another time: the dead holder's pid, given again
      `${process.ppid} 1`,
      // this process's own pid, in a lock it does not hold: a container restarted on the same volume
      String(process.pid),
      `${process.pid} 1`,
    ];
    for (const [i, text] of left.entries()) {
      const data = join(dir, `left-${i}`);
      writeFileSync(`${data}.lock`, text);
      const unlock = await lockDataDir(data);
      expect(readFileSync(`${data}.lock`, 'utf8')).toBe(`${process.pid} ${startedAt(process.pid)}`);
      unlock();
    }
  });

  it('waits out another process taking over a dead lock, and removes a guard or a claim a process left when it died', async () => {
    const data = join(dir, 'guarded');
    writeFileSync(`${data}.lock`, DEAD);
    writeFileSync(`${data}.lock.takeover`, '');
    let taken = false;
    const taking = lockDataDir(data).then((unlock) => {
      taken = true;
      return unlock;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(taken).toBe(false);
    // the other process is done: its guard is gone, and the lock with it
    rmSync(`${data}.lock`);
    rmSync(`${data}.lock.takeover`);
    (await taking)();

    writeFileSync(`${data}.lock`, DEAD);
    writeFileSync(`${data}.lock.takeover`, '');
    writeFileSync(`${data}.lock.${DEAD}.0123456789ab`, DEAD);
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${data}.lock.takeover`, old, old);
    utimesSync(`${data}.lock.${DEAD}.0123456789ab`, old, old);
    (await lockDataDir(data))();
    expect(readdirSync(dir).filter((name) => name.startsWith('guarded'))).toEqual([]);
  });

  it('is taken by exactly one of several processes that find the same dead holder at the same moment', async () => {
    const rounds = 40;
    const racers = 4;
    const race = join(dir, 'race');
    rmSync(race, { recursive: true, force: true });
    mkdirSync(race);
    for (let round = 0; round < rounds; round++) writeFileSync(join(race, `r${round}.lock`), DEAD);
    const start = Date.now() + 3_000;
    const outputs = await Promise.all(
      Array.from(
        { length: racers },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', 'test/support/lock-racer.ts', race, String(rounds), String(start)],
              { stdio: ['ignore', 'pipe', 'inherit'] },
            );
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
            child.on('error', reject);
            child.on('exit', (code) => {
              if (code === 0) resolve(out);
              else reject(new Error(`a racer exited with ${String(code)}`));
            });
          }),
      ),
    );
    const took = new Map<string, number>();
    for (const line of outputs.join('').trim().split('\n')) {
      const [round = '', outcome] = line.split(' ');
      if (outcome === 'took') took.set(round, (took.get(round) ?? 0) + 1);
    }
    expect([...took.values()].filter((n) => n !== 1)).toEqual([]);
    expect(took.size).toBe(rounds);
    expect(readdirSync(race).filter((name) => !name.endsWith('.lock'))).toEqual([]);
  }, 30_000);
});

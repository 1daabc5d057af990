import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
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

/** The inode of a process's pid namespace. */
const namespaceOf = (pid: number | 'self'): string => /\d+/.exec(readlinkSync(`/proc/${pid}/ns/pid`))?.[0] ?? '';

/** A lock of this process: pid, start time, pid namespace. */
const MINE = `${process.pid} ${startedAt(process.pid)} ${namespaceOf('self')}`;

const DEAD = '2147483646';
const RACERS = 4;

describe('the lock of an embedded data directory', () => {
  it('names its holder by pid and start time, refuses this process while it holds it, and is taken again once let go', async () => {
    const data = join(dir, 'own');
    const unlock = await lockDataDir(data);
    expect(readFileSync(`${data}.lock`, 'utf8')).toBe(MINE);
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
      expect(readFileSync(`${data}.lock`, 'utf8')).toBe(MINE);
      unlock();
    }
  });

  it('is taken by one of two calls of this process that find the same dead holder, and let go by it only', async () => {
    const data = join(dir, 'twice');
    writeFileSync(`${data}.lock`, DEAD);
    const calls = await Promise.allSettled([lockDataDir(data), lockDataDir(data)]);
    expect(calls.map((call) => call.status).sort()).toEqual(['fulfilled', 'rejected']);
    const unlock = calls.find((call) => call.status === 'fulfilled')?.value ?? expect.fail('none took it');
    unlock();
    // a second let-go, once another holds it, leaves the other's lock alone
    const again = await lockDataDir(data);
    unlock();
    expect(existsSync(`${data}.lock`)).toBe(true);
    again();
    expect(existsSync(`${data}.lock`)).toBe(false);
  });

  it('is taken over from a zombie: a process that exited and was not reaped yet', async () => {
    // sh's background child exits at once; exec'd sleep never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      await vi.waitFor(() => {
        expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
      });
      const data = join(dir, 'zombie');
      writeFileSync(`${data}.lock`, `${zombie} ${startedAt(zombie)}`);
      (await lockDataDir(data))();
    } finally {
      parent.kill();
    }
  });

  it('waits out another process taking over a dead lock, and breaks a guard or removes a claim a process left when it died', async () => {
    const data = join(dir, 'guarded');
    writeFileSync(`${data}.lock`, DEAD);
    // a live process's guard (the parent's), being held
    writeFileSync(`${data}.lock.takeover`, `${process.ppid} ${startedAt(process.ppid)}`);
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

    // guards left by a process that died in a takeover: one naming it, one it died writing (empty, and old)
    for (const left of [DEAD, '']) {
      writeFileSync(`${data}.lock`, DEAD);
      writeFileSync(`${data}.lock.takeover`, left);
      const old = new Date(Date.now() - 120_000);
      utimesSync(`${data}.lock.takeover`, old, old);
      writeFileSync(`${data}.lock.${DEAD}.0123456789ab`, DEAD);
      utimesSync(`${data}.lock.${DEAD}.0123456789ab`, old, old);
      (await lockDataDir(data))();
      expect(readdirSync(dir).filter((name) => name.startsWith('guarded'))).toEqual([]);
    }
  });

  it('takes a holder of another pid namespace (another container) as alive while its lock is kept fresh, and keeps its own fresh', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const data = join(dir, 'container');
      // pid 1 of another namespace: no pid of this one says anything of it
      writeFileSync(`${data}.lock`, `1 ${startedAt(process.pid)} 1234`);
      await expect(lockDataDir(data)).rejects.toThrow(new DataDirInUseError(data, 1));
      const old = new Date(Date.now() - 60_000);
      utimesSync(`${data}.lock`, old, old);
      const unlock = await lockDataDir(data);
      // this process's lock, aged, is touched within seconds, as a process of another namespace needs
      utimesSync(`${data}.lock`, old, old);
      vi.advanceTimersByTime(5_000);
      expect(Date.now() - statSync(`${data}.lock`).mtimeMs).toBeLessThan(30_000);
      unlock();
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a lock that is a link to nothing or a folder, and breaks an empty guard dated in the future', async () => {
    const data = join(dir, 'odd');
    mkdirSync(`${data}.lock`);
    await expect(lockDataDir(data)).rejects.toThrow(/its lock .*odd\.lock is a folder: remove it/);
    rmSync(`${data}.lock`, { recursive: true });
    symlinkSync(join(dir, 'nowhere'), `${data}.lock`);
    await expect(lockDataDir(data)).rejects.toThrow(/its lock .*odd\.lock is a link to nothing: remove it/);
    rmSync(`${data}.lock`);
    writeFileSync(`${data}.lock`, DEAD);
    writeFileSync(`${data}.lock.takeover`, '');
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(`${data}.lock.takeover`, later, later);
    (await lockDataDir(data))();
    expect(readdirSync(dir).filter((name) => name.startsWith('odd'))).toEqual([]);
  });

  it('is taken by exactly one of several processes that find the same dead holder at the same moment', async () => {
    const rounds = 40;
    const race = join(dir, 'race');
    rmSync(race, { recursive: true, force: true });
    mkdirSync(race);
    for (let round = 0; round < rounds; round++) writeFileSync(join(race, `r${round}.lock`), DEAD);
    const racers = Array.from({ length: RACERS }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lock-racer.ts', race, String(rounds)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      // resolves once the racer's output ends in the line, checked after each chunk is added
      const said = (line: string): Promise<void> =>
        new Promise((resolve, reject) => {
          child.stdout.on('data', () => {
            if (out.endsWith(line)) resolve();
          });
          child.on('exit', (code) => {
            reject(new Error(`a racer exited with ${String(code)} before it said ${line.trim()}`));
          });
        });
      const exited = new Promise<void>((resolve) =>
        child.on('exit', () => {
          resolve();
        }),
      );
      return { child, ready: said('ready\n'), done: said('done\n'), exited, output: () => out };
    });
    // every racer loaded before the first round is set, so the rounds find them all waiting
    await Promise.all(racers.map((racer) => racer.ready));
    const start = Date.now() + 100;
    for (const racer of racers) racer.child.stdin.write(`${start}\n`);
    // one racer stopped in the middle of the rounds comes to the rest after the others are through them: the locks it
    // finds are held all the same
    const [late] = racers;
    setTimeout(() => late?.child.kill('SIGSTOP'), 400);
    setTimeout(() => late?.child.kill('SIGCONT'), 1_600);
    await Promise.all(racers.map((racer) => racer.done));
    for (const racer of racers) racer.child.stdin.end();
    await Promise.all(racers.map((racer) => racer.exited));
    const outputs = racers.map((racer) => racer.output().slice('ready\n'.length, -'done\n'.length));
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

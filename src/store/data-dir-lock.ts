import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataDirInUseError } from '../domain/errors.js';

/**
 * A process as a lock names it: its pid, and on Linux the time it started (clock ticks after boot, field 22 of
 * /proc/<pid>/stat). A pid alone is reused: after a reboot, or by a container restarted on the same volume, where the
 * new process often has the very pid the dead one wrote (1, or tini's child), and would refuse its own folder.
 */
interface Holder {
  pid: number;
  started: string | undefined;
}

function startedAt(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name in field 2 is in parentheses and may hold spaces and parentheses of its own
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const self: Holder = { pid: process.pid, started: startedAt(process.pid) };

const format = (holder: Holder): string => (holder.started ? `${holder.pid} ${holder.started}` : String(holder.pid));

function parse(text: string): Holder | undefined {
  const match = /^(\d{1,10})(?: (\d{1,20}))?$/.exec(text.trim());
  if (!match) return undefined;
  const pid = Number(match[1]);
  return pid > 0 ? { pid, started: match[2] } : undefined;
}

/** Lock files this process holds: its own pid in one it does not hold was written by an earlier process. */
const held = new Set<string>();

function isAlive(holder: Holder): boolean {
  if (holder.pid === self.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.started === undefined) return true;
  const started = startedAt(holder.pid);
  return started === undefined || started === holder.started;
}

/** A takeover takes microseconds: a guard older than this was left by a process that died in one. */
const GUARD_STALE_MS = 5_000;

/**
 * Takes the lock of a data directory: a file beside it naming the process that has it open. PGlite opens a data
 * directory that another process (or this one) has open without complaint, and two writers corrupt it.
 *
 * The lock is written whole under a name of its own and linked into place, so no process ever reads one without its
 * holder. A lock whose holder is gone is removed under a guard (a second file, made only if none is there), and only if
 * it still names that holder: two processes that find the same dead holder would otherwise both remove the lock, the
 * second removing the one the first had just linked, and both open the folder. A guard left by a process that died
 * inside a takeover is removed once it is GUARD_STALE_MS old.
 * @returns a function that lets the lock go
 * @throws DataDirInUseError when a live process holds it
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  const path = `${resolve(dataDir)}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  if (held.has(path)) throw new DataDirInUseError(dataDir, self.pid);
  removeLeftClaims(path);
  const claim = `${path}.${self.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(claim, format(self), { flag: 'wx' });
  try {
    for (;;) {
      if (link(claim, path)) {
        held.add(path);
        return () => {
          held.delete(path);
          rmSync(path, { force: true });
        };
      }
      const found = read(path);
      // let go since by its holder: the next link takes it
      if (found === null) continue;
      const holder = parse(found);
      if (holder && isAlive(holder)) throw new DataDirInUseError(dataDir, holder.pid);
      await removeIfStill(path, found);
    }
  } finally {
    rmSync(claim, { force: true });
  }
}

/** A claim lives while its process takes the lock: one older than a minute was left by a process that died then. */
function removeLeftClaims(path: string): void {
  const prefix = `${basename(path)}.`;
  const claimed = /^\d+\.[0-9a-f]{12}$/;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix) || !claimed.test(name.slice(prefix.length))) continue;
    const file = join(dirname(path), name);
    const since = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > 60_000) rmSync(file, { force: true });
  }
}

/** Links the claim into place: false when a file is there already. */
function link(claim: string, path: string): boolean {
  try {
    linkSync(claim, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The file's text, or null when there is none. */
function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Removes the lock at path if it still says what it said when its holder was found gone, under the guard. */
async function removeIfStill(path: string, found: string): Promise<void> {
  const guard = `${path}.takeover`;
  while (!createGuard(guard)) {
    const since = statSync(guard, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > GUARD_STALE_MS) rmSync(guard, { force: true });
    else await sleep(5);
  }
  try {
    if (read(path) === found) rmSync(path, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Creates the guard (its time is when it was made, its text nothing): false when one is there. */
function createGuard(guard: string): boolean {
  try {
    writeFileSync(guard, '', { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

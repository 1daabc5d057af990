import { randomBytes } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataDirInUseError, DataDirUnusableError } from '../domain/errors.js';

/**
 * A process as a lock names it: its pid, and on Linux the time it started (clock ticks after boot, field 22 of
 * /proc/<pid>/stat). A pid alone is reused: after a reboot, or by a container restarted on the same volume, where the
 * new process often has the very pid the dead one wrote (1, or tini's child), and would refuse its own folder.
 */
interface Holder {
  pid: number;
  started: string | undefined;
  /** its pid namespace (the inode of /proc/<pid>/ns/pid): a pid means something only in its own */
  namespace: string | undefined;
}

/** What /proc says of a process: when it started, and whether it is a zombie (dead, not yet reaped). */
function procStat(pid: number): { started: string | undefined; zombie: boolean } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name in field 2 is in parentheses and may hold spaces and parentheses of its own
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { started: fields[19], zombie: fields[0] === 'Z' };
}

function pidNamespace(): string | undefined {
  try {
    return /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
  } catch {
    return undefined;
  }
}

const self: Holder = { pid: process.pid, started: procStat(process.pid)?.started, namespace: pidNamespace() };

const format = (holder: Holder): string =>
  holder.started
    ? [holder.pid, holder.started, ...(holder.namespace ? [holder.namespace] : [])].join(' ')
    : String(holder.pid);

function parse(text: string): Holder | undefined {
  const match = /^(\d{1,10})(?: (\d{1,20}))?(?: (\d{1,20}))?$/.exec(text.trim());
  if (!match) return undefined;
  const pid = Number(match[1]);
  return pid > 0 ? { pid, started: match[2], namespace: match[3] } : undefined;
}

/**
 * A holder in another pid namespace (another container on the same volume) cannot be looked up: its lock is kept
 * fresh instead, its time touched every LOCK_TOUCH_MS, and it is taken as alive while touched within LOCK_FRESH_MS.
 */
const LOCK_TOUCH_MS = 5_000;
const LOCK_FRESH_MS = 30_000;

/** Whether the lock's holder is alive; `path` is the lock, whose time says so for a holder in another namespace. */
function isAlive(holder: Holder, path: string): boolean {
  if (holder.namespace !== undefined && self.namespace !== undefined && holder.namespace !== self.namespace) {
    const touched = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
    return touched !== undefined && Math.abs(Date.now() - touched) < LOCK_FRESH_MS;
  }
  // this process (another call, or another thread): the same start time. Without /proc there is no telling an earlier
  // process of the same pid from this one, so it is taken as this one, and refused
  if (holder.pid === self.pid) return self.started === undefined || holder.started === self.started;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = procStat(holder.pid);
  if (now?.zombie) return false;
  return holder.started === undefined || now?.started === undefined || now.started === holder.started;
}

/** A claim lives while its process takes the lock: one older than this was left by a process that died then. */
const CLAIM_LEFT_MS = 60_000;

/**
 * Takes the lock of a data directory: a file beside it naming the process that has it open. PGlite opens a data
 * directory that another process (or this one) has open without complaint, and two writers corrupt it.
 *
 * The lock is written whole under a name of its own and linked into place, so no process ever reads one without its
 * holder. A lock whose holder is gone is removed under a guard (a second file naming its maker, made only if none is
 * there), and only if it still says what it said: two processes that find the same dead holder would otherwise both
 * remove the lock, the second removing the one the first had just linked, and both open the folder.
 *
 * A stockroom older than 0.3.0 reads a lock holding a start time as left by a dead process: it must not run on a
 * folder a newer one has open (docs/changelog.md).
 * @returns a function that lets the lock go (once; a lock no longer this process's is left alone)
 * @throws DataDirInUseError when a live process holds it, this one included
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  const path = `${resolve(dataDir)}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new DataDirUnusableError(dataDir, `its lock ${path} is a folder: remove it`);
  removeLeftClaims(path);
  const mine = format(self);
  const claim = `${path}.${self.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(claim, mine, { flag: 'wx' });
  try {
    for (;;) {
      if (link(claim, path)) {
        let released = false;
        const touching = setInterval(() => {
          touch(path, mine);
        }, LOCK_TOUCH_MS).unref();
        return () => {
          if (released) return;
          released = true;
          clearInterval(touching);
          if (read(path) === mine) rmSync(path, { force: true });
        };
      }
      const found = read(path);
      if (found === null) {
        // a link to nothing (a lock is a file, never a link) would be found again at once, for ever
        if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink())
          throw new DataDirUnusableError(dataDir, `its lock ${path} is a link to nothing: remove it`);
        // let go since by its holder: the next link takes it
        continue;
      }
      const holder = parse(found);
      if (holder && isAlive(holder, path)) throw new DataDirInUseError(dataDir, holder.pid);
      await removeIfStill(path, found);
    }
  } finally {
    rmSync(claim, { force: true });
  }
}

function removeLeftClaims(path: string): void {
  const prefix = `${basename(path)}.`;
  const claimed = /^\d+\.[0-9a-f]{12}$/;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix) || !claimed.test(name.slice(prefix.length))) continue;
    const file = join(dirname(path), name);
    const since = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > CLAIM_LEFT_MS) rmSync(file, { force: true });
  }
}

/** Keeps the lock fresh for processes of other namespaces, while it is this process's. */
function touch(path: string, mine: string): void {
  try {
    if (read(path) !== mine) return;
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // a folder gone or unwritable for a moment: the next touch tries again, well within LOCK_FRESH_MS
  }
}

/** Makes a file only if none is there (`make` fails with EEXIST then): whether it was made. */
function madeUnlessThere(make: () => void): boolean {
  try {
    make();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Links the claim into place: false when a file is there already. */
const link = (claim: string, path: string): boolean =>
  madeUnlessThere(() => {
    linkSync(claim, path);
  });

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
    const maker = read(guard);
    if (maker === null) continue;
    const holder = parse(maker);
    // a guard is held for microseconds, and one being written is empty for as long: its maker is waited for, unless
    // it died (or left it empty longer than any write takes)
    const alive = maker === '' ? !leftEmpty(guard) : holder !== undefined && isAlive(holder, guard);
    if (alive) await sleep(5);
    else breakGuard(guard, maker);
  }
  try {
    if (read(path) === found) rmSync(path, { force: true });
  } finally {
    if (read(guard) === format(self)) rmSync(guard, { force: true });
  }
}

/** A guard made this long ago (or dated ahead) and still empty was left so by a process that died writing it. */
const GUARD_LEFT_EMPTY_MS = 5_000;

const leftEmpty = (guard: string): boolean =>
  Math.abs(Date.now() - (statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())) > GUARD_LEFT_EMPTY_MS;

/** Makes the guard, naming this process: false when one is there. */
const createGuard = (guard: string): boolean =>
  madeUnlessThere(() => {
    writeFileSync(guard, format(self), { flag: 'wx' });
  });

/**
 * Removes a guard whose maker died inside a takeover: moved aside under a name of this process's own, then removed
 * if it is the one found dead. If another process broke it first and made its own meanwhile, that one is what was
 * moved: it is put back.
 */
function breakGuard(guard: string, dead: string): void {
  const aside = `${guard}.${self.pid}.${randomBytes(6).toString('hex')}`;
  try {
    renameSync(guard, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // put back unless a third process made a guard in the moment it was away: theirs then stands, and the one moved is
  // let go (its maker finds its takeover's lock changed, and tries again)
  if (read(aside) !== dead) link(aside, guard);
  rmSync(aside, { force: true });
}

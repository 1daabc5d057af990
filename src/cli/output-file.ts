import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, lstat, open, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../domain/errors.js';

/** What the file system said, in words an operator acts on; the errno stays in brackets for a search. */
function reason(error: unknown): string {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOENT: 'its folder does not exist',
    ENOTDIR: 'a part of its path is not a folder',
    EISDIR: 'it is a folder',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is used up',
    ELOOP: 'its symbolic links make a loop',
  };
  const said = errno === undefined ? undefined : words[errno];
  if (said !== undefined) return `${said} (${errno})`;
  return error instanceof Error ? error.message : String(error);
}

/** The refusal of an --output the command cannot write: the operator's path, named with the reason. */
const unwritable = (path: string, error: unknown): ValidationError =>
  ValidationError.field('/output', `cannot write ${path}: ${reason(error)}`);

/**
 * The refusal of an --output whose temporary file cannot be made beside its target. ENOENT there says the folder is
 * missing, unless it is there: then it is a file system that takes no new file (/proc, /sys), which is said instead.
 */
async function noTemporary(path: string, folder: string, error: unknown): Promise<ValidationError> {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const there = errno === 'ENOENT' && (await stat(folder).catch(() => undefined))?.isDirectory() === true;
  if (!there) return unwritable(path, error);
  return ValidationError.field(
    '/output',
    `cannot write ${path}: its folder ${folder} takes no new file (ENOENT); ` +
      'the file is written beside its target under a temporary name, then renamed into place',
  );
}

/** The most symbolic links followed to the file behind a dangling one: the kernel's own limit. */
const MAX_LINKS = 40;

/**
 * Where a path that names no file yet is written: the path itself, or, when it is a symlink to a file not made yet (a
 * dangling one), the file the link names, so that the link is written through as one to an existing file is.
 */
async function notYetThere(path: string): Promise<string> {
  let at = path;
  for (let links = 0; links < MAX_LINKS; links++) {
    const stats = await lstat(at).catch(() => undefined);
    if (!stats?.isSymbolicLink()) return at;
    // a relative link is read from its own folder, as the kernel reads it: `..` from where that folder really is
    const folder = await realpath(dirname(at)).catch(() => dirname(at));
    at = resolve(folder, await readlink(at));
  }
  throw unwritable(path, Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' }));
}

/**
 * The file behind `path` when one is there (a symlink is written through, as `>` would), its mode to keep, and
 * whether it is a regular file: a device or a pipe (`/dev/stdout`, a shell's `>(gzip > x.gz)`) is written as it is.
 */
async function existingTarget(path: string): Promise<{ target: string; mode: number | undefined; file: boolean }> {
  // `--output ""` (a variable left empty): no file is named, and the current folder must not be taken for one
  if (path === '') throw ValidationError.field('/output', 'names no file: it is empty');
  let target: string;
  try {
    target = await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(path, error);
    const linked = await notYetThere(path).catch((failure: unknown) => {
      throw failure instanceof ValidationError ? failure : unwritable(path, failure);
    });
    return { target: linked, mode: undefined, file: true };
  }
  const stats = await stat(target);
  if (stats.isDirectory()) throw unwritable(path, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
  if (!stats.isFile()) return { target, mode: undefined, file: false };
  // a read-only file is refused as writing into it would be, though renaming over it would succeed
  await access(target, constants.W_OK).catch((error: unknown) => {
    throw unwritable(path, error);
  });
  return { target, mode: stats.mode & 0o7777, file: true };
}

/**
 * Writes what `produce` streams to `path`, or to stdout when there is no path. The file is written beside its
 * target under a temporary name and renamed into place only once every byte is there: a command refused on its
 * input (found while streaming, as a stock list's filter is) or failing halfway leaves the file as it was, where
 * opening the file itself would have emptied it first.
 */
export async function writeOutput(path: string | undefined, produce: () => Readable): Promise<void> {
  if (path === undefined) {
    await pipeline(produce(), process.stdout);
    return;
  }
  const { target, mode, file } = await existingTarget(path);
  if (!file) {
    // no file to keep as it was: what is written goes where the operator pointed, as it comes
    const device = await open(target, 'w').catch((error: unknown) => {
      throw unwritable(path, error);
    });
    try {
      await writeAll(path, produce, device);
    } finally {
      await device.close().catch(() => undefined);
    }
    return;
  }
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode ?? 0o666).catch(async (error: unknown) => {
    throw await noTemporary(path, dirname(target), error);
  });
  try {
    await writeAll(path, produce, handle);
    // open's mode passes through the umask; a file replaced keeps the mode it had (a private export stays private)
    if (mode !== undefined) await chmod(temporary, mode);
    await rename(temporary, target).catch((error: unknown) => {
      throw unwritable(path, error);
    });
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  } finally {
    // the stream closes the handle when it finishes; a second close of a closed handle is harmless
    await handle.close().catch(() => undefined);
  }
}

/** Streams what `produce` makes into `handle`; the device or file refusing a write is the operator's --output's. */
async function writeAll(path: string, produce: () => Readable, handle: FileHandle): Promise<void> {
  await pipeline(produce(), handle.createWriteStream()).catch((error: unknown) => {
    // a full disk (or /dev/full) is the operator's to clear; a failure of what was being written stays what it is
    throw (error as NodeJS.ErrnoException).syscall === 'write' ? unwritable(path, error) : error;
  });
}

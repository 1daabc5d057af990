import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, chmod, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
  };
  const said = errno === undefined ? undefined : words[errno];
  if (said !== undefined) return `${said} (${errno})`;
  return error instanceof Error ? error.message : String(error);
}

/** The refusal of an --output the command cannot write: the operator's path, named with the reason. */
const unwritable = (path: string, error: unknown): ValidationError =>
  ValidationError.field('/output', `cannot write ${path}: ${reason(error)}`);

/**
 * The file behind `path` when one is there (a symlink is written through, as `>` would), its mode to keep, and
 * whether it is a regular file: a device or a pipe (`/dev/stdout`, a shell's `>(gzip > x.gz)`) is written as it is.
 */
async function existingTarget(path: string): Promise<{ target: string; mode: number | undefined; file: boolean }> {
  let target: string;
  try {
    target = await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { target: path, mode: undefined, file: true };
    throw unwritable(path, error);
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
    await pipeline(produce(), createWriteStream(target));
    return;
  }
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode ?? 0o666).catch((error: unknown) => {
    throw unwritable(path, error);
  });
  try {
    await pipeline(produce(), handle.createWriteStream()).catch((error: unknown) => {
      // a full disk is the operator's to clear; a failure of what was being written stays what it is
      throw (error as NodeJS.ErrnoException).syscall === 'write' ? unwritable(path, error) : error;
    });
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

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

export interface ServerProcess {
  url: string;
  pid: number;
  /** SIGTERM, then the exit code once the process has shut down */
  stop: () => Promise<number | null>;
  /** SIGKILL: the process dies wherever it is, as in a crash or an OOM kill */
  kill: () => Promise<void>;
  output: () => string;
  /**
   * resolves once the process writes, from now on, something matching `pattern` (to stdout or stderr; to stderr
   * only when its stdout goes to a log file)
   */
  waitFor: (pattern: RegExp) => Promise<void>;
}

export interface ServerOptions {
  /**
   * Write the server's stdout (its log, at the default level unless `env` sets LOG_LEVEL) to this file, as a
   * deployed server writes to journald or a file, instead of to a pipe read by this process: the bench measures a
   * server that logs what it logs by default without paying, in the load generator, to read it.
   */
  logFile?: string;
}

/**
 * Starts `stockroom serve` as its own process on a loopback port (a free one unless `port` is given, as a process
 * started again on its port is), as a user would (`nodeArgs` go to node).
 */
export async function startServer(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
  port = 0,
  /** `demo` serves too, and says where in its banner */
  command: 'serve' | 'demo' = 'serve',
  { logFile }: ServerOptions = {},
): Promise<ServerProcess> {
  const logFd = logFile === undefined ? undefined : openSync(logFile, 'a');
  // a file appended to by a server before this one: this one's output starts where that one's ended
  const logFrom = logFd === undefined ? 0 : fstatSync(logFd).size;
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [...nodeArgs, 'bin/stockroom.js', command, '--port', String(port), '--host', '127.0.0.1'],
      {
        // one process unless a test asks for workers: its pid is the server's, which tests signal and measure. Tests
        // keep their output to warnings; a server logging to a file logs at its default level
        env: {
          ...process.env,
          ...(logFd === undefined ? { LOG_LEVEL: 'warn' } : { LOG_LEVEL: undefined }),
          DATABASE_URL: '',
          STOCKROOM_WORKERS: '1',
          ...env,
        },
        stdio: ['ignore', logFd ?? 'pipe', 'pipe'],
      },
    );
  } finally {
    // the child has its own copy of the descriptor
    if (logFd !== undefined) closeSync(logFd);
  }
  let output = '';
  const waiting = new Set<{ pattern: RegExp; from: number; resolve: () => void }>();
  const heard = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiting) {
      if (w.pattern.test(output.slice(w.from))) {
        waiting.delete(w);
        w.resolve();
      }
    }
  };
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const written = (): string => (logFile === undefined ? output : readFrom(logFile, logFrom) + output);
  let watcher: FSWatcher | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    // a failure to read or watch the log file fails the start, and the server goes with it
    const fail = (error: unknown): void => {
      child.kill('SIGKILL');
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onData = () => {
      try {
        const text = written();
        const match = /listening on (http:\/\/\S+)/.exec(text) ?? /^API\s+(http:\/\/\S+)\/v1 /m.exec(text);
        if (match?.[1]) resolve(match[1]);
      } catch (error) {
        fail(error);
      }
    };
    child.stdout?.on('data', heard);
    child.stderr?.on('data', heard);
    child.stdout?.on('data', onData);
    // the banner is written to the file: read it when the file changes, until it is there
    if (logFile !== undefined) {
      try {
        watcher = watch(logFile, onData).on('error', fail);
      } catch (error) {
        fail(error);
        return;
      }
      onData();
    }
    void exited.then((code) => {
      let said = output;
      try {
        said = written();
      } catch {
        // the log file is gone: what came on stderr still says why
      }
      reject(new Error(`server exited with ${String(code)} before listening:\n${said}`));
    });
  }).finally(() => watcher?.close());
  return {
    url,
    pid: child.pid ?? 0,
    output: written,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiting.add({ pattern, from: output.length, resolve });
        void exited.then((code) => {
          reject(new Error(`server exited with ${String(code)} before writing ${String(pattern)}:\n${output}`));
        });
      }),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** What a file holds from `offset` on. */
function readFrom(path: string, offset: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.max(0, fstatSync(fd).size - offset));
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

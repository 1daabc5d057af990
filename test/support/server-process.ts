import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface ServerProcess {
  url: string;
  pid: number;
  /** SIGTERM, then the exit code once the process has shut down */
  stop: () => Promise<number | null>;
  /** SIGKILL: the process dies wherever it is, as in a crash or an OOM kill */
  kill: () => Promise<void>;
  output: () => string;
  /** resolves once the process writes, from now on, something matching `pattern` (to stdout or stderr) */
  waitFor: (pattern: RegExp) => Promise<void>;
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
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, 'bin/stockroom.js', command, '--port', String(port), '--host', '127.0.0.1'],
    {
      // one process unless a test asks for workers: its pid is the server's, which tests signal and measure
      env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', STOCKROOM_WORKERS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output) ?? /^API\s+(http:\/\/\S+)\/v1 /m.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', heard);
    child.stderr?.on('data', heard);
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      reject(new Error(`server exited with ${String(code)} before listening:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    output: () => output,
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

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface ServerProcess {
  url: string;
  /** SIGTERM, then the exit code once the process has shut down */
  stop: () => Promise<number | null>;
  output: () => string;
}

/** Starts `stockroom serve` as its own process on a free loopback port, as a user would. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['bin/stockroom.js', 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => { reject(new Error(`server exited with ${String(code)} before listening:\n${output}`)); });
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

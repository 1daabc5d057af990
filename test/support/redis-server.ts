import { spawn, spawnSync } from 'node:child_process';
import { freePort } from './postgres-cluster.js';

export const haveRedisServer = (): boolean => spawnSync('redis-server', ['--version']).status === 0;

/** A redis-server of a test's own. */
export interface RedisServer {
  url: string;
  stop: () => void;
  /** e.g. SIGSTOP: a Redis that stops answering without closing a connection; SIGCONT to go on */
  signal: (signal: NodeJS.Signals) => void;
}

/**
 * A throwaway redis-server on a loopback port (a free one unless `port` is given, as one started again on its port
 * is), in memory only unless given a `dir` to keep its data in (an append-only file, written at every command);
 * resolves once it accepts connections.
 */
export async function startRedisServer(options: { port?: number; dir?: string } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const keep = options.dir
    ? ['--dir', options.dir, '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...keep], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`redis-server exited with ${String(code)}:\n${output}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => child.kill('SIGTERM'),
    signal: (signal) => child.kill(signal),
  };
}

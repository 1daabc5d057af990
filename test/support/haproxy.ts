import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './postgres-cluster.js';

/** The shipped configuration, which the tests run (docs/operations.md, "Behind a load balancer (HAProxy)"). */
export const SHIPPED_CONFIG = resolve('deploy/haproxy.cfg');

/** haproxy from Debian's package: required under CI, the suites that need it skipped without it elsewhere. */
export function haproxyBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  if (process.env.CI) throw new Error('CI: no haproxy on the PATH (Debian package haproxy)');
  return undefined;
}

/**
 * deploy/haproxy.cfg as shipped, with only what differs on a test machine put in: the frontend's port, the servers'
 * ports, the runtime API's socket, the folder the errorfiles are read from, no user or chroot unless this process
 * is root, and the `timeouts` a test shortens (by name: `server` for `timeout server`). Each of those must be found
 * in the file as the docs describe it, so a change of the shipped file that the tests would no longer run fails here.
 */
export function configFrom(
  shipped: string,
  at: { port: number; servers: readonly number[]; socket: string; timeouts?: Record<string, string> },
): string {
  const replace = (text: string, pattern: RegExp, by: string): string => {
    const found = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))?.length ?? 0;
    if (found !== 1) throw new Error(`deploy/haproxy.cfg: ${String(pattern)} found ${found} times, not once`);
    return text.replace(pattern, by);
  };
  let config = replace(shipped, /^( *bind )127\.0\.0\.1:8080$/m, `$1127.0.0.1:${at.port}`);
  // only root may change user and chroot: a developer's own run keeps its user (CI runs as root, as haproxy does)
  if (process.getuid?.() !== 0)
    for (const line of [/^ *chroot \S+\n/m, /^ *user haproxy\n/m, /^ *group haproxy\n/m])
      config = replace(config, line, '');
  config = replace(config, /^( *stats socket )\S+/m, `$1${at.socket}`);
  config = replace(config, /^( *default-path )config$/m, `$1origin ${resolve('deploy')}`);
  for (const [name, value] of Object.entries(at.timeouts ?? {}))
    config = replace(config, new RegExp(`^( *timeout ${name} )\\S+$`, 'm'), `$1${value}`);
  const servers = at.servers.map((port, i) => `    server serve${i + 1} 127.0.0.1:${port}`).join('\n');
  return replace(config, /^ *server serve1 127\.0\.0\.1:8081\n *server serve2 127\.0\.0\.1:8082$/m, servers);
}

export interface Haproxy {
  url: string;
  /** a command of HAProxy's runtime API (`show stat`, `set server ...`) and its answer */
  command: (line: string) => Promise<string>;
  /** one server's row of `show stat`: its status (UP, DOWN, MAINT) and sessions, current and in all */
  server: (name: string) => Promise<{ status: string; current: number; total: number }>;
  /** resolves once haproxy writes, from now on, something matching `pattern` (its log goes to stdout) */
  waitFor: (pattern: RegExp) => Promise<void>;
  output: () => string;
  stop: () => Promise<void>;
}

/** haproxy (master-worker, in the foreground) on a free loopback port, before `servers` (loopback ports). */
export async function startHaproxy(
  binary: string,
  servers: readonly number[],
  timeouts: Record<string, string> = {},
): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-haproxy-'));
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, configFrom(readFileSync(SHIPPED_CONFIG, 'utf8'), { port, servers, socket, timeouts }));
  const child = spawn(binary, ['-W', '-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiting = new Set<{ pattern: RegExp; from: number; resolve: () => void }>();
  const heard = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wait of waiting)
      if (wait.pattern.test(output.slice(wait.from))) {
        waiting.delete(wait);
        wait.resolve();
      }
  };
  child.stdout.on('data', heard);
  child.stderr.on('data', heard);
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  const waitFor = (pattern: RegExp): Promise<void> =>
    new Promise<void>((done, reject) => {
      waiting.add({ pattern, from: output.length, resolve: done });
      void exited.then((code) => {
        reject(new Error(`haproxy exited with ${String(code)} before writing ${String(pattern)}:\n${output}`));
      });
    });
  // the master writes this once its worker has loaded the configuration and listens
  const loaded = /Loading success\./;
  if (!loaded.test(output)) await waitFor(loaded);
  const command = (line: string): Promise<string> =>
    new Promise((done, reject) => {
      let answer = '';
      const conn = connect(socket, () => conn.end(`${line}\n`));
      conn.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      conn.on('end', () => {
        done(answer);
      });
      conn.on('error', reject);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    command,
    server: async (name) => {
      const [head = '', ...rows] = (await command('show stat')).split('\n');
      const columns = head.replace(/^# /, '').split(',');
      const row = rows.map((line) => line.split(',')).find((cells) => cells[0] === 'stockroom' && cells[1] === name);
      if (!row) throw new Error(`no server ${name} in haproxy's show stat`);
      const cell = (column: string): string => row[columns.indexOf(column)] ?? '';
      return { status: cell('status'), current: Number(cell('scur')), total: Number(cell('stot')) };
    },
    waitFor,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const PG_BIN = process.env.STOCKROOM_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export const havePostgresBinaries = (): boolean => existsSync(join(PG_BIN, 'pg_ctl'));

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** A server binary's command line, run as the postgres user when this process is root (PostgreSQL refuses root). */
export function postgresCommand(cmd: string, args: string[]): [string, string[]] {
  const bin = join(PG_BIN, cmd);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export interface Cluster {
  /** a superuser URL */
  url: string;
  /** the same superuser URL through the cluster's Unix socket */
  socketUrl: string;
  /** stops the cluster for good and removes its files */
  stop: () => void;
  /** an outage: the server stops at once (`pg_ctl stop -m immediate`, as in a crash); its files stay */
  halt: () => Promise<void>;
  /** the server starts again on the same files and port; resolves once it accepts connections */
  resume: () => Promise<void>;
}

/**
 * A throwaway PostgreSQL cluster from the server binaries in a temp dir, run as the postgres user when this
 * process is root (PostgreSQL refuses to run as root). `settings` are extra `-c name=value` server settings.
 */
export async function startPostgresCluster(settings: Record<string, string | number>): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:', dir]);
  const run = (cmd: string, args: string[]): void => {
    execFileSync(...postgresCommand(cmd, args), { stdio: 'pipe' });
  };
  // halting and resuming do not block this process: tests watch the outage while it happens
  const runAsync = async (cmd: string, args: string[]): Promise<void> => {
    await promisify(execFile)(...postgresCommand(cmd, args));
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${String(v)}`),
  ];
  const startArgs = ['-D', data, '-o', options.join(' '), '-l', join(dir, 'server.log'), '-w', 'start'];
  run('pg_ctl', startArgs);
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    socketUrl: `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    halt: async () => {
      await runAsync('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      running = false;
    },
    resume: async () => {
      await runAsync('pg_ctl', startArgs);
      running = true;
    },
    stop: () => {
      try {
        if (running) run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

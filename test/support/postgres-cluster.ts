import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export interface Cluster {
  /** a superuser URL */
  url: string;
  stop: () => void;
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
    const bin = join(PG_BIN, cmd);
    execFileSync(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ...args] : args, { stdio: 'pipe' });
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ...Object.entries(settings).map(([k, v]) => `-c ${k}=${String(v)}`)];
  run('pg_ctl', ['-D', data, '-o', options.join(' '), '-l', join(dir, 'server.log'), '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

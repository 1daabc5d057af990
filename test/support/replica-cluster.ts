import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PG_BIN, freePort } from './postgres-cluster.js';

/** Whether this machine can make a streaming replica (pg_basebackup beside pg_ctl). */
export const haveBaseBackup = (): boolean => existsSync(join(PG_BIN, 'pg_basebackup'));

/** A streaming replica of a primary, in a cluster of its own. */
export interface Replica {
  /** a superuser URL of `database` on the replica */
  url: string;
  /** stops the replica for good and removes its files */
  stop: () => void;
}

/**
 * A hot-standby replica of the primary at `primaryUrl` (a superuser URL on loopback): `pg_basebackup -R` into a
 * temp dir (as the postgres user when this process is root), then started on a free port of its own with
 * pg_stat_statements loaded, so a test can ask the replica itself which statements it ran. Resolves once it
 * accepts connections.
 */
export async function startReplica(primaryUrl: string, database: string): Promise<Replica> {
  const primary = new URL(primaryUrl);
  // a hot standby refuses to start with fewer connections than its primary allows
  const client = new pg.Client(primaryUrl);
  await client.connect();
  const maxConnections = (await client.query<{ max_connections: string }>('SHOW max_connections')).rows[0]
    ?.max_connections;
  await client.end();
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-replica-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:', dir]);
  const run = (cmd: string, args: string[]): void => {
    const bin = join(PG_BIN, cmd);
    execFileSync(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ...args] : args, { stdio: 'pipe' });
  };
  const data = join(dir, 'data');
  // -R writes standby.signal and primary_conninfo: started on these files, it streams from the primary
  run('pg_basebackup', [
    '-D',
    data,
    '-h',
    primary.hostname,
    '-p',
    primary.port,
    '-U',
    decodeURIComponent(primary.username) || 'postgres',
    '-X',
    'stream',
    '-R',
    '-c',
    'fast',
    '--no-sync',
  ]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c hot_standby=on',
    '-c fsync=off',
    '-c shared_preload_libraries=pg_stat_statements',
    `-c max_connections=${maxConnections ?? 100}`,
  ];
  try {
    run('pg_ctl', ['-D', data, '-o', options.join(' '), '-l', join(dir, 'server.log'), '-w', 'start']);
  } catch (error) {
    const log = readFileSync(join(dir, 'server.log'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the replica did not start: ${log.slice(-2000)}`, { cause: error });
  }
  const url = new URL(primaryUrl);
  url.port = String(port);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, postgresCommand } from './postgres-cluster.js';
import type { Cluster } from './postgres-cluster.js';

export interface Standby {
  /** a superuser URL of the standby (read-only until promoted) */
  url: string;
  /** `pg_ctl promote`, as the operator runs it; resolves once the standby has left recovery */
  promote: () => Promise<void>;
  /** stops it for good and removes its files */
  stop: () => void;
}

const run = (cmd: string, args: string[]): void => {
  execFileSync(...postgresCommand(cmd, args), { stdio: 'pipe' });
};

/**
 * A streaming standby of `primary`, as the operations guide sets one up: `pg_basebackup -R` from the running
 * primary into a temp dir, started on a free loopback port, then made synchronous on the primary
 * (synchronous_standby_names by ALTER SYSTEM, so the standby's own copy of the settings does not have it and a
 * promoted standby does not wait for a standby of its own). Resolves once the primary reports it `sync`.
 */
export async function startSynchronousStandby(primary: Cluster): Promise<Standby> {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-standby-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:', dir]);
  const data = join(dir, 'data');
  const source = new URL(primary.url);
  run('pg_basebackup', [
    '-h',
    source.hostname,
    '-p',
    source.port,
    '-U',
    'postgres',
    '-D',
    data,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
  ]);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off'];
  run('pg_ctl', ['-D', data, '-o', options.join(' '), '-l', join(dir, 'server.log'), '-w', 'start']);
  let running = true;

  const admin = new pg.Client(primary.url);
  await admin.connect();
  try {
    await admin.query(`ALTER SYSTEM SET synchronous_standby_names = '*'`);
    await admin.query('SELECT pg_reload_conf()');
    // the reload is asynchronous: wait for the walsender to report the standby as synchronous
    for (let tries = 0; ; tries++) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'`,
      );
      if ((rows[0]?.n ?? 0) > 0) break;
      if (tries > 200) throw new Error('the standby never became synchronous');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    promote: async () => {
      await promisify(execFile)(...postgresCommand('pg_ctl', ['-D', data, '-w', 'promote']));
    },
    stop: () => {
      try {
        if (running) run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
        running = false;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

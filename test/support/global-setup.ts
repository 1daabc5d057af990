import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** a superuser URL of the PostgreSQL server the suites create their databases on, or '' */
    postgresUrl: string;
  }
}

const PG_BIN = process.env.STOCKROOM_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function freePort(): Promise<number> {
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

/**
 * One PostgreSQL cluster per test run: STOCKROOM_TEST_PG_URL if given, else a throwaway cluster from the
 * server binaries in a temp dir (as the postgres user when running as root, which PostgreSQL refuses).
 * Under CI a missing PostgreSQL fails the run: the PostgreSQL suites must not be skipped there.
 */
export async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.STOCKROOM_TEST_PG_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return () => undefined;
  }
  if (!existsSync(join(PG_BIN, 'pg_ctl'))) {
    if (process.env.CI) throw new Error(`CI: no PostgreSQL server binaries in ${PG_BIN} and no STOCKROOM_TEST_PG_URL`);
    console.warn(`no PostgreSQL binaries in ${PG_BIN}: the PostgreSQL suites are skipped`);
    project.provide('postgresUrl', '');
    return () => undefined;
  }
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
  // durability off: a test cluster is thrown away; connections for the 200-client race and parallel files
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500`;
  run('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', 'start']);
  project.provide('postgresUrl', `postgres://postgres@127.0.0.1:${port}/postgres`);
  return () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

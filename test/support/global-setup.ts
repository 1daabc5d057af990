import type { TestProject } from 'vitest/node';
import { PG_BIN, havePostgresBinaries, startPostgresCluster } from './postgres-cluster.js';
import { makePgliteTemplate } from './pglite-template.js';
import { haveRedisServer, startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** a superuser URL of the PostgreSQL server the suites create their databases on, or '' */
    postgresUrl: string;
    /** a redis:// URL of a throwaway redis-server, or '' */
    redisUrl: string;
  }
}

/**
 * One PostgreSQL cluster per test run: STOCKROOM_TEST_PG_URL if given, else a throwaway cluster from the
 * server binaries in a temp dir (as the postgres user when running as root, which PostgreSQL refuses).
 * Under CI a missing PostgreSQL fails the run: the PostgreSQL suites must not be skipped there.
 */
export async function setup(project: TestProject): Promise<() => void> {
  const template = await makePgliteTemplate();
  project.provide('pgliteTemplate', template.dir);
  const stopRedis = await setupRedis(project);
  const stopPostgres = await setupPostgres(project);
  return () => {
    stopPostgres();
    stopRedis();
    template.remove();
  };
}

/** One redis-server per run, the same way: skipped locally without one, a failure under CI. */
async function setupRedis(project: TestProject): Promise<() => void> {
  if (!haveRedisServer()) {
    if (process.env.CI) throw new Error('CI: no redis-server on the PATH');
    console.warn('no redis-server: the Redis suites are skipped');
    project.provide('redisUrl', '');
    return () => undefined;
  }
  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);
  return redis.stop;
}

async function setupPostgres(project: TestProject): Promise<() => void> {
  const given = process.env.STOCKROOM_TEST_PG_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return () => undefined;
  }
  if (!havePostgresBinaries()) {
    if (process.env.CI) throw new Error(`CI: no PostgreSQL server binaries in ${PG_BIN} and no STOCKROOM_TEST_PG_URL`);
    console.warn(`no PostgreSQL binaries in ${PG_BIN}: the PostgreSQL suites are skipped`);
    project.provide('postgresUrl', '');
    return () => undefined;
  }
  // durability off: a test cluster is thrown away; connections for the 200-client race and parallel files
  const cluster = await startPostgresCluster({
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 500,
  });
  project.provide('postgresUrl', cluster.url);
  return cluster.stop;
}

import type { Db } from './db.js';

/**
 * A Db that has no database behind it: every statement is refused with `why`. For what builds on a Stockroom without
 * reading anything, such as the API document (the routes and their schemas), so that it need not start a database.
 */
export function noDatabase(why: string): Db {
  const refuse = (): Promise<never> => Promise.reject(new Error(`no database: ${why}`));
  return {
    // the embedded database is what a process without DATABASE_URL would open: nothing is asked of it either way
    driver: 'pglite',
    query: refuse,
    exec: refuse,
    transaction: refuse,
    listen: refuse,
    close: () => Promise.resolve(),
  };
}

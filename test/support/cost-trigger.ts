import { readFileSync, readdirSync } from 'node:fs';

const MIGRATIONS = new URL('../../src/store/migrations/', import.meta.url);
const DEFINITION = /CREATE (OR REPLACE )?FUNCTION stock_movements_cost\(\)/;

const migrationSql = (migration: string): string => readFileSync(new URL(`${migration}.sql`, MIGRATIONS), 'utf8');

/**
 * The cost trigger's function as a migration defines it, to be put in place of the one there is: how a test writes
 * what an older version wrote.
 */
export function costTrigger(migration: string): string {
  const sql = migrationSql(migration);
  const start = sql.search(DEFINITION);
  if (start < 0) throw new Error(`migration ${migration} does not define stock_movements_cost()`);
  const end = sql.indexOf('END $$;', start) + 'END $$;'.length;
  return sql.slice(start, end).replace(/^CREATE FUNCTION/, 'CREATE OR REPLACE FUNCTION');
}

/**
 * The migration whose cost trigger a migrated database runs: the last, in name order, that defines it. A test that
 * borrows an older one puts this one back, found here rather than named, so that a later migration's trigger is not
 * silently replaced by the one before it for the rest of the suite.
 */
export const CURRENT_COST_TRIGGER: string = (() => {
  const versions = readdirSync(MIGRATIONS)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => file.replace(/\.sql$/, ''))
    .filter((version) => DEFINITION.test(migrationSql(version)));
  const current = versions.at(-1);
  if (current === undefined) throw new Error('no migration defines stock_movements_cost()');
  return current;
})();

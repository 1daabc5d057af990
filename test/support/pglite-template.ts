// One migrated embedded database per test run, made before any test starts, that the suites start from instead of
// each running PGlite's initdb (3-7 s of CPU apiece, some sixty in-memory databases and forty data folders a run):
// as a tarball for in-memory databases, and as a data folder copied for CLI and server processes; and the same
// database before its migrations, as a tarball, for the suites of the migrations. A suite that tests the first start
// of an empty folder makes its own.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';
import { migrate } from '../../src/store/migrate.js';
import { openPglite, pgliteDb, pgliteParsers } from '../../src/store/pglite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * a folder holding `data` (a migrated embedded data folder), `data.tar` (the same as PGlite's dump) and
     * `empty.tar` (the dump of the folder before it was migrated)
     */
    pgliteTemplate: string;
  }
}

/** Makes the template in a temp folder of its own; returns the folder and how to remove it. */
export async function makePgliteTemplate(): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-template-'));
  const fresh = await PGlite.create(join(dir, 'data'));
  try {
    await dumpTo(fresh, join(dir, 'empty.tar'));
  } finally {
    await fresh.close();
  }
  const db = await openPglite(join(dir, 'data'));
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  // the dump is taken from a copy opened apart: the folder itself stays as the server left it
  const copy = await PGlite.create(join(dir, 'data'));
  try {
    await dumpTo(copy, join(dir, 'data.tar'));
  } finally {
    await copy.close();
  }
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function dumpTo(pglite: PGlite, file: string): Promise<void> {
  const dump = await pglite.dumpDataDir('none');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
}

/** A new in-memory PGlite database, not migrated (no table of stockroom's), from the run's template. */
export async function emptyPgliteFromTemplate(): Promise<PGlite> {
  return loadDump('empty.tar');
}

/** A new in-memory PGlite database loaded from one of the template's dumps. */
async function loadDump(name: string): Promise<PGlite> {
  const tar = await readFile(join(inject('pgliteTemplate'), name));
  return PGlite.create({ loadDataDir: new Blob([tar]), parsers: pgliteParsers });
}

/** A new in-memory PGlite database, migrated, from the run's template. */
export async function pgliteFromTemplate(): Promise<PGlite> {
  const pglite = await loadDump('data.tar');
  // a no-op on the template; kept so a database made here is migrated whatever the template holds
  await migrate(pgliteDb(pglite));
  return pglite;
}

/** Copies the run's migrated data folder to `dataDir` (which must not exist yet), as a store a server has opened. */
export function copyTemplateDataDir(dataDir: string): void {
  cpSync(join(inject('pgliteTemplate'), 'data'), dataDir, { recursive: true });
}

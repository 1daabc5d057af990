import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { run } from '../../src/cli/program.js';
import { Stockroom, openPglite } from '../../src/index.js';
import { expectReconciled } from './harness.js';
import { copyTemplateDataDir } from './pglite-template.js';

/** What a command said and how it ended. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in this process, as the bin does, and captures what it says. */
export async function cli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) }, env);
  return { code, out, err };
}

/**
 * An embedded database of its own for a suite of CLI tests, in a temp folder: its env (STOCKROOM_DATA, plus `extra`)
 * and folder. After the suite the ledger is reconciled and the folder removed.
 */
export function useEmbeddedCli(
  prefix: string,
  extra: NodeJS.ProcessEnv = {},
  /** `empty`: no data folder yet, for a suite about the first start; otherwise a copy of the run's migrated one */
  { empty = false }: { empty?: boolean } = {},
): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!empty) copyTemplateDataDir(join(dir, 'data'));
  afterAll(async () => {
    const s = new Stockroom({ db: await openPglite(join(dir, 'data')) });
    try {
      await expectReconciled(s);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return { dir, env: { STOCKROOM_DATA: join(dir, 'data'), ...extra } };
}

import { run } from '../../src/cli/program.js';

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

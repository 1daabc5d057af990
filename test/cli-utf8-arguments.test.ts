import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

const exec = promisify(execFile);

describe('command-line arguments that are not UTF-8 (bin/stockroom.js, built)', () => {
  const { env } = useEmbeddedCli('stockroom-utf8-args-');

  /**
   * Runs the built command as a shell does, with `reference` given as raw bytes (printf's octal escapes): a string
   * argument handed to a child process is always sent as UTF-8, so only a shell can send other bytes.
   */
  async function createWithReference(escapes: string): Promise<{ code: number; out: string; err: string }> {
    const script = `exec "$0" bin/stockroom.js --json po create S1 WH1 T-A:1 --reference "$(printf '${escapes}')"`;
    return exec('sh', ['-c', script, process.execPath], { env: { ...process.env, DATABASE_URL: '', ...env } }).then(
      ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
      (error: unknown) => {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, out: failed.stdout, err: failed.stderr };
      },
    );
  }

  const orders = async (): Promise<{ reference: string | null }[]> =>
    (JSON.parse((await cli(env, '--json', 'po', 'list')).out) as { items: { reference: string | null }[] }).items;

  beforeAll(async () => {
    expect((await cli(env, 'warehouse', 'add', 'WH1', '--name', 'One')).code).toBe(0);
    expect((await cli(env, 'suppliers', 'add', 'S1', 'Supplier One')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'T-A', '--title', 'T-A')).code).toBe(0);
  });

  it('refuses an argument whose bytes are not UTF-8, naming the first bad byte, and creates nothing', async () => {
    const refused = await createWithReference('\\377\\376');
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.out)).toMatchObject({
      code: 'validation_failed',
      errors: [
        { path: '/argv/7', message: expect.stringContaining('is not valid UTF-8: byte 0xFF at offset 0') as unknown },
      ],
    });
    expect(await orders()).toEqual([]);
  });

  it.runIf(existsSync('/proc/self/cmdline'))(
    'takes U+FFFD typed as such, as the API does, where the system shows the bytes it was given',
    async () => {
      const made = await createWithReference('PO-\\357\\277\\275');
      expect(made.code, made.err).toBe(0);
      expect((await orders()).map((order) => order.reference)).toContain('PO-\uFFFD');
    },
  );
});

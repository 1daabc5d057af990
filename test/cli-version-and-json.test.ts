import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTemplateDataDir } from './support/pglite-template.js';

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs bin/stockroom.js as a user would (it runs the build in dist/: `npm run build` first). */
function stockroom(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/stockroom.js', ...argv], {
      env: { ...process.env, DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, out, err });
    });
  });
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('the stockroom command: --version, and errors as JSON on stdout with --json', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stockroom-cli-json-'));
    // the run's migrated embedded database, copied: a first start's initdb is another suite's (test/embedded.test.ts)
    copyTemplateDataDir(join(dir, 'data'));
    env = { STOCKROOM_DATA: join(dir, 'data') };
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the version of package.json with --version and -V', async () => {
    expect(await stockroom(env, '--version')).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect(await stockroom(env, '-V')).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });

  it('prints a refusal as one JSON document on stdout, with its stable code, and keeps the exit code', async () => {
    const missing = await stockroom(env, '--json', 'commit', '00000000-0000-4000-8000-000000000000');
    expect(missing).toMatchObject({ code: 1, err: '' });
    expect(JSON.parse(missing.out)).toMatchObject({ code: 'not_found', resource: 'reservation' });

    const invalid = await stockroom(env, 'reserve', 'order-1', 'TEE-M', '--json');
    expect(invalid).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(invalid.out)).toMatchObject({
      code: 'validation_failed',
      errors: [{ message: expect.stringContaining('is not SKU:QTY') as unknown }],
    });
  });

  it('prints usage errors, bad settings and an unreachable database as JSON too', async () => {
    const usage = await stockroom(env, '--json', 'frobnicate');
    expect(usage).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(usage.out)).toMatchObject({
      code: 'validation_failed',
      detail: expect.stringContaining("unknown command 'frobnicate'") as unknown,
    });

    const setting = await stockroom({ ...env, STOCKROOM_SWEEP_MS: 'soon' }, '--json', 'serve', '--port', '0');
    expect(setting).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(setting.out)).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: '/env/STOCKROOM_SWEEP_MS' }],
    });

    // nothing listens on port 1 of loopback
    const away = await stockroom({ DATABASE_URL: 'postgres://stockroom@127.0.0.1:1/none' }, '--json', 'stock', 'X');
    expect(away).toMatchObject({ code: 4, err: '' });
    expect(JSON.parse(away.out)).toMatchObject({ code: 'unavailable' });
  });

  it('ends serve with the reason when REDIS_URL is no Redis URL or Redis cannot be reached, never showing its password', async () => {
    const notUrl = await stockroom({ ...env, REDIS_URL: 'secret-pw@localhost:6379' }, 'serve', '--port', '0');
    expect(notUrl.code).toBe(2);
    expect(notUrl.err).toContain('/env/REDIS_URL: must be a redis:// or rediss:// URL');
    // nothing listens on port 1 of loopback: the command ends (ioredis would retry for ever) with exit 4
    const away = await stockroom({ ...env, REDIS_URL: 'redis://user:secret-pw@127.0.0.1:1/0' }, 'serve', '--port', '0');
    expect(away.code).toBe(4);
    expect(away.err).toMatch(/cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\): connect ECONNREFUSED/);
    for (const run of [notUrl, away]) expect(run.out + run.err).not.toContain('secret-pw');
  });

  it('without --json prints errors for a person on stderr, as before', async () => {
    const usage = await stockroom(env, 'frobnicate');
    expect(usage).toMatchObject({ code: 2, out: '' });
    expect(usage.err).toMatch(/unknown command 'frobnicate'/);
  });
});

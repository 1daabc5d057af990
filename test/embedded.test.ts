import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirInUseError, DataDirUnusableError } from '../src/domain/errors.js';
import { openPglite } from '../src/store/pglite.js';
import { cli } from './support/cli.js';

describe('the embedded database directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-embedded-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is opened by one process at a time, and persists what it was given', async () => {
    const data = join(dir, 'data');
    const db = await openPglite(data);
    await db.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await expect(openPglite(data)).rejects.toThrow(DataDirInUseError);
    await db.close();
    const again = await openPglite(data);
    expect((await again.query<{ n: number }>('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
    await again.close();
  });

  it('takes over a lock left by a process that died, or left empty, and leaves nothing else beside the folder', async () => {
    const data = join(dir, 'orphan');
    writeFileSync(`${data}.lock`, '2147483646');
    const db = await openPglite(data);
    // the lock names this process from the moment it exists (written whole, then linked into place)
    expect(readFileSync(`${data}.lock`, 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+ \\d+$`));
    await db.close();
    writeFileSync(`${data}.lock`, '');
    await (await openPglite(data)).close();
    expect(readdirSync(dir).filter((name) => name.startsWith('orphan'))).toEqual(['orphan']);
  });

  // as root (CI), each command in a pid namespace of its own, as containers on one volume are
  it.skipIf(spawnSync('unshare', ['-pf', '--mount-proc', 'true']).status !== 0)(
    'is refused to a process of another pid namespace while a server of its own namespace holds it',
    async () => {
      const data = join(dir, 'namespaces');
      const env = { ...process.env, STOCKROOM_DATA: data, DATABASE_URL: '', LOG_LEVEL: 'info' };
      const inNamespace = (...argv: string[]) => [
        '-pf',
        '--mount-proc',
        '--kill-child=SIGKILL',
        process.execPath,
        'bin/stockroom.js',
        ...argv,
      ];
      const server = spawn('unshare', inNamespace('serve', '--port', '0', '--host', '127.0.0.1'), {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        let out = '';
        await new Promise<void>((resolve, reject) => {
          server.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (/Server listening/.test(out)) resolve();
          });
          server.once('exit', (code) => {
            reject(new Error(`serve exited with ${String(code)}: ${out}`));
          });
        });
        // the server is pid 1 of its namespace, and so is this command in its own: a pid alone would say "this one"
        const cli = spawnSync('unshare', inNamespace('reconcile'), { env, encoding: 'utf8' });
        expect(cli.status).toBe(3);
        expect(cli.stderr).toMatch(/is in use by process 1/);
      } finally {
        server.kill('SIGKILL');
      }
    },
  );

  it('says a file where the folder should be is a file, to the library and on the command line', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a database');
    await expect(openPglite(file)).rejects.toThrow(DataDirUnusableError);
    await expect(openPglite(file)).rejects.toThrow(/cannot be opened in .*a-file: a file is there, not a folder/);
    await expect(openPglite(join(file, 'data'))).rejects.toThrow(
      /cannot be opened in .*a-file\/data: (ENOTDIR|EEXIST)/,
    );
    // a folder PGlite cannot use inside: a file where it keeps a folder of its own
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'base'), 'not a folder');
    await expect(openPglite(broken)).rejects.toThrow(/cannot be opened in .*broken: PGlite's file system refused it/);
    // and its lock was let go: the same refusal again, not data_dir_in_use
    await expect(openPglite(broken)).rejects.toThrow(DataDirUnusableError);
    const run = await cli({ STOCKROOM_DATA: file }, 'reconcile');
    expect(run.code).toBe(3);
    expect(run.err).toMatch(/a file is there, not a folder/);
    expect(run.err).not.toMatch(/object Object|\n\s+at /);
    const json = await cli({ STOCKROOM_DATA: file }, '--json', 'analyze');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out)).toMatchObject({ code: 'data_dir_unusable' });
  });
});

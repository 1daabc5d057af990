import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { useUpstream } from './support/upstream.js';

/** How the bin ended: its exit code (null when it had to be killed), what it said, and how long it took. */
interface BinRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs bin/stockroom.js as a process, killed after `timeoutMs`: a command that should refuse must not run on. */
function bin(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<BinRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/stockroom.js', ...args],
      { env: { ...process.env, DATABASE_URL: '', ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

describe('stockroom --output', () => {
  const { dir, env } = useEmbeddedCli('stockroom-output-');
  const keep = join(dir, 'keep.csv');
  const leftovers = () => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

  beforeAll(async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'TEE-M', '--title', 'Tee')).code).toBe(0);
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', '7')).code).toBe(0);
  });

  it('leaves the file as it was when the command is refused on its input', async () => {
    for (const argv of [
      ['stock', 'list', '--status', 'bogus', '--csv', '--output', keep],
      ['valuation', '--as-of', '2026-02-30', '--csv', '--output', keep],
      ['valuation', '--as-of', '2026-02-30', '--xlsx', '--output', keep],
    ]) {
      writeFileSync(keep, 'precious\n');
      const refused = await cli(env, ...argv);
      expect(refused.code, argv.join(' ')).toBe(2);
      expect(readFileSync(keep, 'utf8'), argv.join(' ')).toBe('precious\n');
      expect(leftovers()).toEqual([]);
    }
  });

  it('replaces the file whole once the command succeeds, keeping its mode', async () => {
    writeFileSync(keep, 'precious\n');
    chmodSync(keep, 0o600);
    for (const argv of [
      ['export', 'stock', '--output', keep],
      ['stock', 'list', '--csv', '--output', keep],
      ['valuation', '--csv', '--output', keep],
    ]) {
      expect(await cli(env, ...argv), argv.join(' ')).toMatchObject({ code: 0 });
      expect(readFileSync(keep, 'utf8')).toMatch(/^sku,.*\n.*TEE-M/s);
      expect(statSync(keep).mode & 0o777).toBe(0o600);
    }
    expect(leftovers()).toEqual([]);
  });

  it('writes into a pipe named as --output as it comes, leaving the pipe a pipe', async () => {
    const pipe = join(dir, 'out.fifo');
    execFileSync('mkfifo', [pipe]);
    try {
      const read = new Promise<string>((resolve, reject) => {
        let text = '';
        createReadStream(pipe, 'utf8')
          .on('data', (chunk) => (text += String(chunk)))
          .on('end', () => {
            resolve(text);
          })
          .on('error', reject);
      });
      expect(await cli(env, 'export', 'stock', '--output', pipe)).toMatchObject({ code: 0 });
      expect(await read).toMatch(/^sku,.*\n.*TEE-M/s);
      expect(statSync(pipe).isFIFO()).toBe(true);
      expect(leftovers()).toEqual([]);
    } finally {
      rmSync(pipe, { force: true });
    }
  });

  it('refuses an --output it cannot write with exit 2, naming the path and why', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const missing = join(dir, 'no-such-folder', 'out.csv');
    for (const [path, why] of [
      [missing, /its folder does not exist/],
      [folder, /it is a folder/],
    ] as const) {
      const refused = await cli(env, 'export', 'stock', '--output', path);
      expect(refused.code, path).toBe(2);
      expect(refused.err).toContain(`/output: cannot write ${path}`);
      expect(refused.err).toMatch(why);
      const json = await cli(env, '--json', 'stock', 'list', '--csv', '--output', path);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed' });
    }
    expect(existsSync(missing)).toBe(false);
  });

  it("writes through a symlink to a file not made yet, read from the link's own folder, leaving the link a link", async () => {
    const links = join(dir, 'links');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(links, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    // a link to a link: both dangle until the export makes the file at the end of them
    symlinkSync('../elsewhere/second.csv', join(links, 'first.csv'));
    symlinkSync('made-by-export.csv', join(elsewhere, 'second.csv'));
    expect(await cli(env, 'export', 'stock', '--output', join(links, 'first.csv'))).toMatchObject({ code: 0 });
    expect(lstatSync(join(links, 'first.csv')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(elsewhere, 'second.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(elsewhere, 'made-by-export.csv'), 'utf8')).toMatch(/^sku,.*\n.*TEE-M/s);
    expect(
      readdirSync(links)
        .concat(readdirSync(elsewhere))
        .filter((name) => name.endsWith('.tmp')),
    ).toEqual([]);
    // a link into a folder that is not there is refused as such, and the link is left as it was
    symlinkSync(join(dir, 'no-such-folder', 'x.csv'), join(links, 'nowhere.csv'));
    const refused = await cli(env, 'export', 'stock', '--output', join(links, 'nowhere.csv'));
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`/output: cannot write ${join(links, 'nowhere.csv')}: its folder does not exist`);
    expect(lstatSync(join(links, 'nowhere.csv')).isSymbolicLink()).toBe(true);
  });

  it('refuses an empty --output, a full device and a file in a folder that takes no new file, naming the path and the real reason', async () => {
    const empty = await cli(env, 'export', 'stock', '--output', '');
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('/output: names no file: it is empty');
    if (existsSync('/dev/full')) {
      const full = await cli(env, 'export', 'stock', '--output', '/dev/full');
      expect(full.code).toBe(2);
      expect(full.err).toContain('/output: cannot write /dev/full: no space left on the device (ENOSPC)');
      const json = await cli(env, '--json', 'export', 'stock', '--output', '/dev/full');
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed', errors: [{ path: '/output' }] });
    }
    if (existsSync('/proc/version')) {
      const proc = await cli(env, 'export', 'stock', '--output', '/proc/version');
      expect(proc.code).toBe(2);
      // root may write it, and is refused a file beside it; anyone else is refused the file itself
      expect(proc.err).toMatch(
        /\/output: cannot write \/proc\/version: (its folder \/proc takes no new file \(ENOENT\)|permission denied)/,
      );
      expect(proc.err).not.toContain('does not exist');
    }
  });

  it('names the file an import cannot find', async () => {
    const missing = join(dir, 'no-such-import.csv');
    const refused = await cli(env, 'import', 'stock', missing);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(missing);
  });
});

describe('settings the CLI checks before it opens anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-settings-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const refusing = [
    ['STOCKROOM_SECRET_KEY', 'short'],
    ['STOCKROOM_LIST_TOTAL_MAX', '0'],
    ['STOCKROOM_KIT_REFRESH_MS', 'abc'],
    ['STOCKROOM_SYNC_PULL_MAX_BYTES', '0'],
  ] as const;

  it('refuses an invalid setting before the embedded database folder is made', async () => {
    for (const [name, value] of refusing) {
      const data = join(dir, `never-${name}`);
      const refused = await cli({ STOCKROOM_DATA: data, [name]: value }, 'stock', 'TEE-M');
      expect(refused.code, name).toBe(2);
      expect(refused.err).toContain(`/env/${name}`);
      expect(existsSync(data), `${name} made ${data}`).toBe(false);
    }
  });

  it.skipIf(!postgresUrl())('refuses an invalid setting on PostgreSQL at once, with no pool left open', async () => {
    const { url, drop } = await createPostgresDatabase();
    try {
      for (const [name, value] of refusing) {
        const refused = await bin(['stock', 'TEE-M'], { DATABASE_URL: url, [name]: value });
        expect(refused.code, name).toBe(2);
        expect(refused.stderr).toContain(`/env/${name}`);
        // an open pool kept the process alive for its idle timeout (11 s) after the refusal was printed
        expect(refused.ms, name).toBeLessThan(5000);
      }
    } finally {
      await drop();
    }
  });
});

describe.skipIf(!postgresUrl())('a DATABASE_URL the server refuses', () => {
  /** The test server's URL with another database, user password or query, the password hunter2. */
  const variant = (change: (url: URL) => void): string => {
    const url = new URL(postgresUrl());
    url.password = 'hunter2';
    change(url);
    return url.toString();
  };

  it('exits 2 for a database that does not exist, naming it without the password', async () => {
    const env = { DATABASE_URL: variant((url) => (url.pathname = '/no_such_db')) };
    const refused = await cli(env, 'stock', 'X');
    expect(refused).toMatchObject({ code: 2, out: '' });
    expect(refused.err).toMatch(/\/env\/DATABASE_URL: .*no_such_db.* names a database the server does not have/);
    expect(refused.err).not.toContain('hunter2');
    const json = await cli(env, '--json', 'stock', 'X');
    expect(json).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed' });
    expect(json.out).not.toContain('hunter2');
  });

  it('exits 2 for sslmode=require against a server without SSL, saying so', async () => {
    const refused = await cli(
      {
        DATABASE_URL: variant((url) => {
          url.searchParams.set('sslmode', 'require');
        }),
      },
      'stock',
      'X',
    );
    expect(refused).toMatchObject({ code: 2, out: '' });
    expect(refused.err).toMatch(/\/env\/DATABASE_URL: .*does not accept SSL connections/);
    expect(refused.err).not.toContain('hunter2');
  });
});

describe('options the CLI refuses before it starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-options-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  /** an embedded database the command would make if it got as far as opening one */
  const data = join(dir, 'never-made');

  it('refuses an --actor that is empty, longer than 200 characters or holds a control character, before anything is opened', async () => {
    for (const [actor, message] of [
      ['', 'must not have fewer than 1 characters'],
      ['a'.repeat(201), 'must not have more than 200 characters'],
      ['ops\nreceive TEE-M', 'must be text with no control character'],
      ['ops\u001b[31m', 'must be text with no control character'],
      ['ops\u0085', 'must be text with no control character'],
    ] as const) {
      const refused = await cli({ STOCKROOM_DATA: data }, '--actor', actor, 'receive', 'TEE-M', 'AMS', '1');
      expect(refused.code, JSON.stringify(actor)).toBe(2);
      expect(refused.err).toContain(`/actor: ${message}`);
      const json = await cli({ STOCKROOM_DATA: data }, '--json', 'receive', 'TEE-M', 'AMS', '1', '--actor', actor);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed', errors: [{ path: '/actor' }] });
    }
    expect(existsSync(data)).toBe(false);
  });

  it('records an --actor of up to 200 characters, of any script, on the ledger', async () => {
    const env = { STOCKROOM_DATA: join(dir, 'actors') };
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'TEE-M', '--title', 'Tee')).code).toBe(0);
    const actor = `Zoë (ops) ${'x'.repeat(190)}`;
    expect(actor).toHaveLength(200);
    expect((await cli(env, '--actor', actor, 'receive', 'TEE-M', 'AMS', '1')).code).toBe(0);
    const ledger = JSON.parse((await cli(env, '--json', 'movements', 'TEE-M')).out) as { items: { actor: string }[] };
    expect(ledger.items[0]?.actor).toBe(actor);
  });

  it('refuses an option given twice, naming it, rather than take the last, before anything is opened', async () => {
    for (const argv of [
      ['receive', 'TEE-M', 'AMS', '1', '--reference', 'a', '--reference', 'b'],
      ['stock', 'list', '--limit', '1', '--limit', '2'],
      ['export', 'stock', '--output', join(dir, 'a.csv'), '--output', join(dir, 'b.csv')],
      ['stock', 'list', '--low', '--low'],
      ['--actor', 'a', 'receive', 'TEE-M', 'AMS', '1', '--actor', 'b'],
      // a comma list is one value: a second one would replace the first
      ['keys', 'create', '--name', 'k', '--scopes', 'checkout', '--scopes', 'warehouse'],
    ]) {
      const option = argv.find((arg, i) => arg.startsWith('--') && argv.indexOf(arg) !== i) ?? '';
      const refused = await cli({ STOCKROOM_DATA: data }, ...argv);
      expect(refused.code, argv.join(' ')).toBe(2);
      expect(refused.err).toMatch(new RegExp(`option '${option}[ ']`));
      expect(refused.err).toContain('was given more than once; give it once');
      const json = await cli({ STOCKROOM_DATA: data }, '--json', ...argv);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed' });
      expect(json.out).toContain(option);
    }
    expect(existsSync(data)).toBe(false);
    expect(existsSync(join(dir, 'a.csv')) || existsSync(join(dir, 'b.csv'))).toBe(false);
  });

  it('takes every value of an option meant to repeat', async () => {
    const env = { STOCKROOM_DATA: join(dir, 'repeats') };
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'suppliers', 'add', 'SUP', 'Supplier')).code).toBe(0);
    const tee = ['variant', 'add', 'TEE', '--title', 'Tee', '--attr', 'size=M', '--attr', 'colour=red'];
    expect((await cli(env, ...tee, '--tag', 'summer', '--tag', 'cotton')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'MUG', '--title', 'Mug')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'SET', '--title', 'Set')).code).toBe(0);
    const shown = JSON.parse((await cli(env, '--json', 'variant', 'show', 'TEE')).out) as object;
    expect(shown).toMatchObject({ attributes: { size: 'M', colour: 'red' }, product: { tags: ['summer', 'cotton'] } });
    expect((await cli(env, 'receive', 'TEE', 'AMS', '2')).code).toBe(0);
    const listed = await cli(env, '--json', 'stock', 'list', '--attribute', 'size:M', '--attribute', 'colour:red');
    expect(JSON.parse(listed.out)).toMatchObject({ items: [{ sku: 'TEE' }] });
    const kit = await cli(env, '--json', 'kits', 'define', 'SET', '--component', 'TEE:1', '--component', 'MUG:2');
    expect(JSON.parse(kit.out)).toMatchObject({
      components: [
        { sku: 'MUG', qty: 2 },
        { sku: 'TEE', qty: 1 },
      ],
    });
    const po = ['po', 'create', 'SUP', 'AMS', 'TEE:1', 'MUG:1', '--cost', 'TEE=1.50', '--cost', 'MUG=2.00'];
    const order = JSON.parse((await cli(env, '--json', ...po)).out) as { lines: { unit_cost: number }[] };
    expect(order.lines.map((line) => line.unit_cost)).toEqual([150, 200]);
    const due = await cli(env, '--json', 'replenish', '--dry-run', '--sku', 'TEE', '--sku', 'MUG');
    expect(due.code, due.out + due.err).toBe(0);
    expect((JSON.parse(due.out) as { items: { sku: string }[] }).items.map((item) => item.sku).sort()).toEqual([
      'MUG',
      'TEE',
    ]);
  });

  it('refuses an empty, blank or too long --key on every command that takes one, as the Idempotency-Key header is', async () => {
    const id = '0190a4e2-0000-7000-8000-000000000000';
    const commands = [
      ['reserve', 'ordk-2', 'SKU:1'],
      ['commit', id],
      ['cancel', id],
      ['fulfil', id],
      ['reservations', 'amend', id, 'SKU:1'],
      ['reservations', 'move', id, 'SKU', 'AMS'],
      ['reservations', 'unfulfil', id],
    ];
    for (const command of commands) {
      for (const [key, message] of [
        ['', 'must not be empty'],
        [' ', 'must not be empty'],
        ['k'.repeat(201), 'must be at most 200 characters'],
      ] as const) {
        const refused = await cli({ STOCKROOM_DATA: data }, ...command, '--key', key);
        expect(refused.code, `${command.join(' ')} --key ${key.length}`).toBe(2);
        expect(refused.err).toContain(`/key: ${message}`);
      }
      const json = await cli({ STOCKROOM_DATA: data }, '--json', ...command, '--key', '');
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed', errors: [{ path: '/key' }] });
    }
    expect(existsSync(data)).toBe(false);
  });

  it('refuses to serve on an empty --host, which would listen on every interface', async () => {
    for (const host of ['', '  ']) {
      const refused = await bin(['serve', '--host', host, '--port', '18301'], {});
      expect(refused.code, JSON.stringify(host)).toBe(2);
      expect(refused.stderr).toMatch(/--host.*must be an address/);
    }
  });

  it('refuses a sync --every under a second or past the longest timer, instead of pulling in a tight loop', async () => {
    for (const every of ['0s', '0m', '999999999h', '2147484s']) {
      const refused = await bin(
        ['sync', 'pull', '--url', 'http://127.0.0.1:18302/', '--source', 'wms', '--every', every],
        {},
      );
      expect(refused.code, every).toBe(2);
      expect(refused.stderr).toMatch(/\/every: .* out of range/);
      expect(refused.stderr).not.toMatch(/TimeoutOverflowWarning/);
    }
  });
});

describe('stockroom sync pull against a misbehaving source', () => {
  const { env } = useEmbeddedCli('stockroom-upstream-');
  const upstream = useUpstream();

  beforeAll(async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'PULLED-1', '--title', 'Pulled')).code).toBe(0);
    for (const source of ['wms', 'latin', 'twice', 'endless', 'big'])
      expect((await cli(env, 'sync', 'source', source)).code).toBe(0);
  });

  it('refuses a source nobody registered before asking it, as a push naming one is refused, and registers nothing', async () => {
    const asked = upstream.asked.length;
    for (const every of [[], ['--every', '1s']]) {
      const refused = await cli(env, 'sync', 'pull', '--url', upstream.url, '--source', 'nobody', ...every);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(
        'error: sync source not found: nobody (register it first: stockroom sync source nobody) [not_found]',
      );
    }
    const json = await cli(env, '--json', 'sync', 'pull', '--url', upstream.url, '--source', 'nobody');
    expect(JSON.parse(json.out)).toMatchObject({ code: 'not_found', resource: 'sync source', key: 'nobody' });
    expect(upstream.asked.length).toBe(asked);
  });

  it('refuses a source name that is empty or longer than 100 characters as invalid input, before asking the source', async () => {
    const asked = upstream.asked.length;
    for (const name of ['', 'n'.repeat(101)]) {
      const refused = await cli(env, 'sync', 'pull', '--url', upstream.url, '--source', name);
      expect(refused.code, name).toBe(2);
      expect(refused.err).toContain('/source: a source name of 1-100 characters is required');
      expect(refused.err).not.toMatch(/check constraint|internal/);
      const json = await cli(env, '--json', 'sync', 'pull', '--url', upstream.url, '--source', name);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed', errors: [{ path: '/source' }] });
    }
    expect(upstream.asked.length).toBe(asked);
  });

  it('refuses a --url that is no http(s) URL, or holds a user and password, naming the option and never the password', async () => {
    const port = new URL(upstream.url).port;
    for (const [url, why] of [
      ['not a url', 'must be an http(s) URL with a host'],
      ['ftp://127.0.0.1/stock', 'must be an http(s) URL with a host'],
      [`http://user:hunter2@127.0.0.1:${port}/stock`, 'must not hold a user name or password'],
      [`http://hunter2@127.0.0.1:${port}/stock`, 'must not hold a user name or password'],
    ] as const) {
      const refused = await cli(env, 'sync', 'pull', '--url', url, '--source', 'wms');
      expect(refused.code, url).toBe(2);
      expect(refused.err, url).toContain(`/url: ${why}`);
      const json = await cli(env, '--json', 'sync', 'pull', '--url', url, '--source', 'wms');
      expect(json.code, url).toBe(2);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed', errors: [{ path: '/url' }] });
      expect(refused.err + json.out).not.toContain('hunter2');
    }
  });

  it('reports a batch that is not valid as upstream_failed, its places marked as the source answer', async () => {
    const item = { sku: 'PULLED-1', warehouse: 'AMS', on_hand: 3 };
    for (const [body, place] of [
      [{ items: [{ ...item, colour: 'red' }] }, '/items/0/colour'],
      [{ items: [item, { ...item, sku: 'PUL\u0000LED' }] }, '/items/1/sku'],
      [{ items: [item], as_of: 'yesterday' }, '/as_of'],
      // a member the answer does not define is refused, as in an item, not passed over
      [{ items: [item], next: 'page-2' }, '/next'],
      // which of its two numbers for one level is meant is the source's to say
      [{ items: [item, { ...item, on_hand: 4 }] }, '/items/1'],
    ] as const) {
      upstream.answer = () => ({ status: 200, body });
      const failed = await cli(env, 'sync', 'pull', '--url', upstream.url, '--source', 'wms');
      expect(failed.code, place).toBe(3);
      expect(failed.err).toMatch(/wms answered with a batch that is not valid, at these places in its answer/);
      expect(failed.err).toContain(place);
      expect(failed.err).toMatch(/\[upstream_failed\]/);
      const json = await cli(env, '--json', 'sync', 'pull', '--url', upstream.url, '--source', 'wms');
      expect(json.code, place).toBe(3);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'upstream_failed', upstream_errors: [{ path: place }] });
    }
    expect(JSON.parse((await cli(env, '--json', 'stock', 'PULLED-1')).out)).toMatchObject({ total: { on_hand: 0 } });
  });

  it('reports an answer that is not UTF-8 as upstream_failed, rather than apply a SKU with U+FFFD in it', async () => {
    upstream.answer = () => ({
      status: 200,
      body: Buffer.from(
        '{"items":[{"sku":"PULLED-1","warehouse":"AMS","on_hand":4},{"sku":"PULLED-\xe9","warehouse":"AMS","on_hand":4}]}',
        'latin1',
      ),
    });
    const failed = await cli(env, 'sync', 'pull', '--url', upstream.url, '--source', 'latin');
    expect(failed.code).toBe(3);
    expect(failed.err).toMatch(/latin answered with bytes that are not UTF-8 \(at offset \d+\); nothing was applied/);
    expect(JSON.parse((await cli(env, '--json', 'stock', 'PULLED-1')).out)).toMatchObject({ total: { on_hand: 0 } });
  });

  it('reports an answer naming a member twice as upstream_failed, rather than apply the last of them', async () => {
    upstream.answer = () => ({
      status: 200,
      body: Buffer.from('{"items":[{"sku":"PULLED-1","warehouse":"AMS","on_hand":4,"on_hand":40}]}'),
    });
    const failed = await cli(env, 'sync', 'pull', '--url', upstream.url, '--source', 'twice');
    expect(failed.code).toBe(3);
    expect(failed.err).toMatch(
      /twice answered with \/items\/0\/on_hand named twice in one object; nothing was applied/,
    );
    expect(JSON.parse((await cli(env, '--json', 'stock', 'PULLED-1')).out)).toMatchObject({ total: { on_hand: 0 } });
  });

  it('stops reading a source past STOCKROOM_SYNC_PULL_MAX_BYTES, declared or not, and applies nothing', async () => {
    let sent = 0;
    let closed = false;
    // an answer with no end and no length: only the cap stops it
    const endless = createServer((req, res) => {
      if (req.url?.startsWith('/declared')) {
        // says it will send 500 MB, sends one byte, and waits
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500000000' }).write('{');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
      const chunk = '{"sku":"PULLED-1","warehouse":"AMS","on_hand":1},'.repeat(1000);
      const more = () => {
        while (!closed && res.write(chunk)) sent += chunk.length;
        if (!closed) res.once('drain', more);
      };
      res.once('close', () => (closed = true));
      more();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/stock`;
      const capped = { ...env, STOCKROOM_SYNC_PULL_MAX_BYTES: '100000' };
      const failed = await cli(capped, 'sync', 'pull', '--url', url, '--source', 'endless');
      expect(failed.code).toBe(3);
      expect(failed.err).toMatch(
        /endless answered with more than 100000 bytes; nothing was applied \[upstream_failed\]/,
      );
      await expect.poll(() => closed).toBe(true);
      expect(sent).toBeLessThan(20_000_000);
      // a declared length past the cap is refused without waiting for the body
      const declared = await cli(
        capped,
        'sync',
        'pull',
        '--url',
        url.replace('/stock', '/declared'),
        '--source',
        'big',
      );
      expect(declared.code).toBe(3);
      expect(declared.err).toMatch(/big answered with more than 100000 bytes/);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  }, 30_000);
});

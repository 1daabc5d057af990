import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Stockroom, openPglite } from '../src/index.js';
import { expectReconciled } from './support/harness.js';
import { startServer } from './support/server-process.js';

const keyIn = (output: string): string => /^Admin key (sr_\S+)$/m.exec(output)?.[1] ?? '';

const statusWith = async (url: string, key: string): Promise<number> =>
  (await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${key}` } })).status;

describe('`npm run demo` run again on the same embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-demo-keys-'));
  const data = join(dir, 'data');
  afterAll(async () => {
    const s = new Stockroom({ db: await openPglite(data) });
    try {
      await expectReconciled(s);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints a new admin key and stops the keys the run before printed; keys made by hand stay', async () => {
    const first = await startServer({ STOCKROOM_DATA: data }, [], 0, 'demo');
    const printed = keyIn(first.output());
    try {
      expect(printed).toMatch(/^sr_/);
      expect(await statusWith(first.url, printed)).toBe(200);
    } finally {
      await first.stop();
    }
    // one made by hand in between, with a name a demo key's resembles
    const s = new Stockroom({ db: await openPglite(data) });
    const byHand = await s.keys.create({ name: 'demo for the team', scopes: ['admin'] });
    await s.close();

    const second = await startServer({ STOCKROOM_DATA: data }, [], 0, 'demo');
    try {
      const again = keyIn(second.output());
      expect(again).toMatch(/^sr_/);
      expect(again).not.toBe(printed);
      expect(await statusWith(second.url, printed)).toBe(401);
      expect(await statusWith(second.url, again)).toBe(200);
      expect(await statusWith(second.url, byHand.key)).toBe(200);
      const listed = (await (
        await fetch(`${second.url}/v1/keys`, { headers: { authorization: `Bearer ${again}` } })
      ).json()) as { items: { name: string; revoked_at: string | null }[] };
      const live = listed.items.filter((key) => key.revoked_at === null).map((key) => key.name.replace(/\d.*$/, ''));
      // this run's admin and storefront keys, and the one made by hand
      expect(live.sort()).toEqual(['demo ', 'demo for the team', 'demo storefront ']);
      expect(listed.items.filter((key) => key.revoked_at !== null)).toHaveLength(2);
    } finally {
      await second.stop();
    }
  });
});

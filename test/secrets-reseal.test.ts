import { afterEach, describe, expect, it } from 'vitest';
import { SecretsUnreadableError, ValidationError } from '../src/domain/errors.js';
import { open, openOne, secretKeyFrom } from '../src/domain/secret-box.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { signWebhook } from '../src/domain/signature.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPglite } from '../src/store/pglite.js';
import type { Db } from '../src/store/db.js';
import { cli, useEmbeddedCli } from './support/cli.js';
import { createTestDb, drivers } from './support/databases.js';
import { expectReconciled, levels, world } from './support/harness.js';
import type { TestDb } from './support/databases.js';

const OLD = 'the-old-operator-secret-0123456789';
const NEW = 'the-new-operator-secret-9876543210';
const HOOK_URL = 'https://hooks.example.com/services/T0/B0/tokenTokenToken';
const SIGNING = 'a-webhook-signing-secret-0123';
const SYNC_SECRET = 'a-sync-source-secret-456789';

/** Every stored secret as it is in the database: channels' secrets and sync sources' two columns. */
async function stored(db: Db) {
  const channels = await db.query<{ id: number; secrets: Record<string, string> }>(
    'SELECT id, secrets FROM channels ORDER BY id',
  );
  const sources = await db.query<{ name: string; secret: string | null; secret_sealed: string | null }>(
    'SELECT name, secret, secret_sealed FROM sync_sources ORDER BY name',
  );
  return { channels: channels.rows, sources: sources.rows };
}

describe.each(drivers())('secrets re-sealed under a new STOCKROOM_SECRET_KEY, on %s', (driver) => {
  const made: TestDb[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((db) => db.drop()));
  });

  /** A store with a channel and a sync source added before any key, and the same under the old key. */
  const withSecrets = async (): Promise<Db> => {
    const test = await createTestDb(driver);
    made.push(test);
    const unkeyed = new Stockroom({ db: test.db });
    await unkeyed.channels.addWebhook({ url: HOOK_URL, events: ['out_of_stock'], secret: SIGNING, name: 'early' });
    await unkeyed.sync.configureSource('early-wms', SYNC_SECRET);
    const keyed = new Stockroom({ db: test.db, secretKey: OLD });
    await keyed.channels.addWebhook({ url: HOOK_URL, events: ['out_of_stock'], secret: SIGNING, name: 'sealed' });
    await keyed.sync.configureSource('sealed-wms', SYNC_SECRET);
    return test.db;
  };

  it('seals every secret with the new key, from the previous key or as given; then nothing is left', async () => {
    const db = await withSecrets();
    const s = new Stockroom({ db, secretKey: NEW });
    expect(await s.secrets.reseal(OLD)).toEqual({
      channels: { resealed: 2, already: 0, removed_unreadable: 0 },
      sync_sources: { resealed: 2, already: 0 },
    });
    const after = await stored(db);
    for (const channel of after.channels) {
      expect(Object.keys(channel.secrets)).toEqual(['sealed']);
      expect(open(secretKeyFrom(NEW), channel.secrets)).toEqual({ url: HOOK_URL, secret: SIGNING });
      expect(() => open(secretKeyFrom(OLD), channel.secrets)).toThrow(SecretsUnreadableError);
    }
    for (const source of after.sources) {
      expect(source.secret).toBeNull();
      expect(openOne(secretKeyFrom(NEW), source.secret_sealed ?? '')).toBe(SYNC_SECRET);
    }
    // the server's channel list opens them with the new key: each target is the URL redacted, not the mask of one
    // it cannot open (what it showed for the channel sealed with the old key before)
    const targets = (await s.channels.list()).items.map((channel) => channel.target);
    expect(targets).toHaveLength(2);
    for (const target of targets) expect(target).toMatch(/^https:\/\/hooks\.example\.com\//);
    expect(await s.secrets.reseal(OLD)).toEqual({
      channels: { resealed: 0, already: 2, removed_unreadable: 0 },
      sync_sources: { resealed: 0, already: 2 },
    });
    expect(await stored(db)).toEqual(after);
  });

  it('leaves a removed channel neither key opens as it is (it never sends again), reseals the rest', async () => {
    const db = await withSecrets();
    const lost = new Stockroom({ db, secretKey: 'a-key-nobody-has-any-more-0123' });
    const gone = await lost.channels.addWebhook({ url: HOOK_URL, events: ['out_of_stock'], secret: SIGNING });
    await lost.channels.remove(gone.id);
    const { rows: before } = await db.query<{ secrets: Record<string, string> }>(
      'SELECT secrets FROM channels WHERE id = $1',
      [gone.id],
    );
    const s = new Stockroom({ db, secretKey: NEW });
    expect(await s.secrets.reseal(OLD)).toEqual({
      channels: { resealed: 2, already: 0, removed_unreadable: 1 },
      sync_sources: { resealed: 2, already: 0 },
    });
    const { rows: after } = await db.query<{ secrets: Record<string, string> }>(
      'SELECT secrets FROM channels WHERE id = $1',
      [gone.id],
    );
    expect(after).toEqual(before);
  });

  it("takes the sources' signed pushes on the new key once resealed, and a process still on the old key refuses them", async () => {
    const db = await withSecrets();
    const s = new Stockroom({ db, secretKey: NEW });
    await s.secrets.reseal(OLD);
    const { sku, wh } = await world(s, [5]);
    const warehouse = wh[0]!;
    for (const [source, onHand] of [
      ['early-wms', 9],
      ['sealed-wms', 11],
    ] as const) {
      const batch = { source, items: [{ sku, warehouse, on_hand: onHand }] };
      const body = JSON.stringify(batch);
      const header = signWebhook(SYNC_SECRET, body, Math.floor(Date.now() / 1000));
      const onHandNow = async () => (await levels(s, sku, [warehouse]))[warehouse]?.[0];
      const before = await onHandNow();
      // its secret is sealed under the new key now: the old one cannot open it, and the batch changes nothing
      await expect(new Stockroom({ db, secretKey: OLD }).sync.push(batch, body, header)).rejects.toThrow(
        SecretsUnreadableError,
      );
      expect(await onHandNow()).toBe(before);
      // the same signed batch is taken on the new key (the refused one did not spend its signature)
      await s.sync.push(batch, body, header);
      expect(await onHandNow()).toBe(onHand);
      // and its signature once only
      await expect(s.sync.push(batch, body, header)).rejects.toMatchObject({ code: 'invalid_signature' });
    }
    await expectReconciled(s);
  });

  it('refuses, changing nothing, when a secret is sealed with a key it was not given', async () => {
    const db = await withSecrets();
    const before = await stored(db);
    const s = new Stockroom({ db, secretKey: NEW });
    await expect(s.secrets.reseal()).rejects.toThrow(ValidationError);
    await expect(s.secrets.reseal('not-the-key-they-were-sealed-with')).rejects.toThrow(
      /the secrets of channel \d+: neither STOCKROOM_SECRET_KEY nor STOCKROOM_PREVIOUS_SECRET_KEY opens it/,
    );
    await expect(s.secrets.reseal('not-the-key-they-were-sealed-with')).rejects.toThrow(SecretsUnreadableError);
    expect(await stored(db)).toEqual(before);
    await expect(new Stockroom({ db }).secrets.reseal(OLD)).rejects.toThrow(ValidationError);
    expect(await stored(db)).toEqual(before);
  });
});

describe('stockroom secrets reseal', () => {
  const { env } = useEmbeddedCli('stockroom-reseal-');

  it('reseals from the previous key and says how many; refuses readably without it; shows no secret', async () => {
    const setup = await cli(env, 'migrate');
    expect(setup.code, setup.err).toBe(0);
    const s = new Stockroom({ db: await openPglite(String(env.STOCKROOM_DATA)), secretKey: OLD });
    try {
      await s.channels.addWebhook({ url: HOOK_URL, events: ['out_of_stock'], secret: SIGNING, name: 'sealed' });
      await s.sync.configureSource('sealed-wms', SYNC_SECRET);
    } finally {
      await s.close();
    }
    const refused = await cli({ ...env, STOCKROOM_SECRET_KEY: NEW }, 'secrets', 'reseal');
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.err).toContain('/env/STOCKROOM_PREVIOUS_SECRET_KEY');
    const wrong = await cli(
      { ...env, STOCKROOM_SECRET_KEY: NEW, STOCKROOM_PREVIOUS_SECRET_KEY: 'not-the-key-they-were-sealed-with' },
      'secrets',
      'reseal',
    );
    expect(wrong.code).toBe(EXIT.failure);
    expect(wrong.err).toContain('neither STOCKROOM_SECRET_KEY nor STOCKROOM_PREVIOUS_SECRET_KEY opens it');
    const resealed = await cli(
      { ...env, STOCKROOM_SECRET_KEY: NEW, STOCKROOM_PREVIOUS_SECRET_KEY: OLD },
      'secrets',
      'reseal',
    );
    expect(resealed.code, resealed.err).toBe(0);
    expect(resealed.out).toContain('1 channel(s) and 1 sync source(s) anew');
    const again = await cli({ ...env, STOCKROOM_SECRET_KEY: NEW }, '--json', 'secrets', 'reseal');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toEqual({
      channels: { resealed: 0, already: 1, removed_unreadable: 0 },
      sync_sources: { resealed: 0, already: 1 },
    });
    for (const run of [refused, wrong, resealed, again])
      for (const secret of [OLD, NEW, SIGNING, SYNC_SECRET, 'tokenTokenToken'])
        expect(run.out + run.err).not.toContain(secret);
  });
});

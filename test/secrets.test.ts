import { createHash } from 'node:crypto';
import { signWebhook } from '../src/domain/signature.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stockroom } from '../src/services/stockroom.js';
import { drivers } from './support/databases.js';
import { httpReceiver, smtpReceiver } from './support/receivers.js';
import type { HttpReceiver, SmtpReceiver } from './support/receivers.js';
import { ADMIN_KEY, apiCall, expectServerDatabaseReconciled, serverDatabase } from './support/served.js';
import type { ServerDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
/** channel secrets are sealed with it at rest: then no column of the database holds them in the clear */
const SECRET_KEY = 'server-side-sealing-key-0123456789';

/** Every table's rows as text, but for the columns named (`table.column`) that hold a secret by design. */
async function dumpDatabase(s: Stockroom, except: readonly string[]): Promise<string> {
  const { rows: tables } = await s.db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  let dump = '';
  for (const { name } of tables) {
    const hidden = except.filter((c) => c.startsWith(`${name}.`)).map((c) => `'${c.slice(name.length + 1)}'`);
    const row = hidden.length > 0 ? `(to_jsonb(t) - ARRAY[${hidden.join(', ')}]::text[])::text` : 't::text';
    const { rows } = await s.db.query<{ row: string }>(`SELECT ${row} AS row FROM "${name}" t`);
    dump += `${name}\n${rows.map((r) => r.row).join('\n')}\n`;
  }
  return dump;
}

/**
 * A real server process whose alert channels all fail, some receivers echoing what they were sent: after the
 * failures, no secret given to a channel, and no API key, shows in the server's log, in any answer of the API,
 * or in the database (channel secrets are sealed there with STOCKROOM_SECRET_KEY).
 */
describe.each(drivers())('secrets stay secret, on %s', (driver) => {
  let database: ServerDatabase;
  let server: ServerProcess;
  let slack: HttpReceiver;
  let telegram: HttpReceiver;
  let hook: HttpReceiver;
  let smtp: SmtpReceiver;
  const answers: string[] = [];
  const call = async (method: string, path: string, options: Parameters<typeof apiCall>[3] = {}) => {
    const reply = await apiCall(server, method, path, options);
    answers.push(JSON.stringify(reply.body));
    return reply;
  };
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    [slack, telegram, hook, smtp] = await Promise.all([
      httpReceiver(),
      httpReceiver(),
      httpReceiver(),
      smtpReceiver({ rejectWith: 'mailbox unavailable' }),
    ]);
    // hostile or careless receivers: each refuses, quoting what it was sent (the path holds the secret)
    slack.answer = (_, r) => ({ status: 404, body: { error: `no_service: ${r.path}` } });
    telegram.answer = (_, r) => ({
      status: 401,
      body: { ok: false, error_code: 401, description: `Unauthorized: ${r.path}` },
    });
    hook.answer = (_, r) => ({
      status: 403,
      body: { error: `denied ${r.path} for ${String(r.headers['authorization'])}` },
    });
    Object.assign(secrets, {
      slackToken: 'slackHookTokenXyZ0123456789',
      slackUrl: `${slack.url}/services/T0SECRETSPACE/B0SECRETCHANNEL/slackHookTokenXyZ0123456789`,
      botToken: '987654321:TelegramBotSecretToken_abcdefghij',
      hookPassword: 'hookPassw0rdSecret',
      hookQueryToken: 'queryTokenSecret987',
      hookUrl: `${hook.url.replace('http://', 'http://hookuser:hookPassw0rdSecret@')}/in?token=queryTokenSecret987`,
      hookBasic: Buffer.from('hookuser:hookPassw0rdSecret').toString('base64'),
      hookSecret: 'whsec-SigningSecret-0123456789',
      smtpPassword: 'smtpPassw0rdSecret',
      smtpUrl: smtp.url.replace('smtp://', 'smtp://mailer:smtpPassw0rdSecret@'),
    });
    database = await serverDatabase(driver);
    // a sync source that signs its pushes, registered as `stockroom sync source NAME --secret S` does: with the key
    secrets['syncSecret'] = 'syncSigningSecret-0123456789';
    const registering = await database.open({ secretKey: SECRET_KEY });
    try {
      await registering.migrate();
      await registering.sync.configureSource('wms-sealed', secrets['syncSecret']);
    } finally {
      await registering.close();
    }
    server = await startServer({
      ...database.env,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_SECRET_KEY: SECRET_KEY,
      LOG_LEVEL: 'trace',
      STOCKROOM_DELIVERY_MAX_ATTEMPTS: '2',
      STOCKROOM_DELIVERY_BACKOFF_MS: '10',
      STOCKROOM_DELIVERY_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await server.stop();
    await database.cleanup();
    await Promise.all([slack.close(), telegram.close(), hook.close(), smtp.close()]);
  });

  it('after deliveries to Slack, Telegram, email and a webhook fail, no channel secret is in the log or any answer', async () => {
    const events = ['out_of_stock'];
    const created = [
      await call('POST', '/v1/channels', { body: { kind: 'slack', url: secrets['slackUrl'], events } }),
      await call('POST', '/v1/channels', {
        body: {
          kind: 'telegram',
          bot_token: secrets['botToken'],
          chat_id: '-100200300',
          api_url: telegram.url,
          events,
        },
      }),
      await call('POST', '/v1/webhooks', { body: { url: secrets['hookUrl'], secret: secrets['hookSecret'], events } }),
      await call('POST', '/v1/channels', {
        body: { kind: 'email', smtp_url: secrets['smtpUrl'], from: 'stockroom@shop.test', to: 'ops@shop.test', events },
      }),
    ];
    expect(created.map((c) => c.status)).toEqual([201, 201, 201, 201]);
    expect(created.map((c) => c.body['target'])).toEqual([
      `${slack.url}/services/T0…/B0…/***`,
      'chat -100200300',
      `${hook.url}/***?token=***`.replace('http://', 'http://***@'),
      'ops@shop.test',
    ]);

    // one SKU sold out in one warehouse: two out_of_stock events (the warehouse, and overall), to every channel
    expect((await call('POST', '/v1/warehouses', { body: { code: 'SEC', name: 'Secret Town' } })).status).toBe(201);
    expect(
      (
        await call('POST', '/v1/variants', {
          body: { sku: 'SEC-1', product: { title: 'Sock' }, low_stock_threshold: 1 },
        })
      ).status,
    ).toBe(201);
    expect((await call('POST', '/v1/stock/receive', { body: { sku: 'SEC-1', warehouse: 'SEC', qty: 2 } })).status).toBe(
      200,
    );
    expect(
      (
        await call('POST', '/v1/stock/adjust', {
          body: { sku: 'SEC-1', warehouse: 'SEC', delta: -2, reason: 'damaged' },
        })
      ).status,
    ).toBe(200);

    // two tries each, then a dead letter: 8 of them
    await expect
      .poll(
        async () => ((await call('GET', '/v1/deliveries?status=dead&limit=100')).body['items'] as unknown[]).length,
        { timeout: 20_000 },
      )
      .toBe(8);
    expect(slack.items.length + telegram.items.length + hook.items.length).toBe(12);
    // what the receivers got is what they were meant to get: the secrets reached them, and only them
    expect(telegram.items[0]?.path).toBe(`/bot${secrets['botToken'] ?? ''}/sendMessage`);
    expect(hook.items[0]?.path).toBe(`/in?token=${secrets['hookQueryToken'] ?? ''}`);
    expect(hook.items[0]?.headers['authorization']).toBe(`Basic ${secrets['hookBasic'] ?? ''}`);
    const dead = (await call('GET', '/v1/deliveries?status=dead&limit=100')).body['items'] as {
      kind: string;
      last_error: string;
      log: { error: string }[];
    }[];
    expect(new Set(dead.map((d) => d.kind))).toEqual(new Set(['slack', 'telegram', 'webhook', 'email']));
    for (const d of dead) {
      expect(d.last_error).toMatch(/404|401|403|550|mailbox unavailable|recipients were rejected/);
      expect(d.log.map((a) => a.error)).toHaveLength(2);
    }

    // every list and read of the API, as its admin sees it
    const openapi = (await call('GET', '/openapi.json')).body as { paths: Record<string, { get?: unknown }> };
    const reads = Object.keys(openapi.paths).filter(
      (p) => openapi.paths[p]?.get !== undefined && !p.includes('{') && !p.includes('stream'),
    );
    expect(reads).toEqual(
      expect.arrayContaining(['/v1/channels', '/v1/webhooks', '/v1/deliveries', '/v1/keys', '/v1/alerts']),
    );
    for (const path of reads) {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      answers.push(await res.text());
    }
    for (const c of created)
      answers.push(
        await fetch(`${server.url}/v1/deliveries?channel=${String(c.body['id'])}`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        }).then((r) => r.text()),
      );

    const log = server.output();
    expect(log).toMatch(/delivery failed/); // the log was there to be read
    for (const [name, secret] of Object.entries(secrets)) {
      expect({ name, inLog: log.includes(secret) }).toEqual({ name, inLog: false });
      const where = answers.findIndex((a) => a.includes(secret));
      expect({ name, inAnswer: where === -1 ? null : answers[where] }).toEqual({ name, inAnswer: null });
    }
  });

  it('lists keys by a public id: never a character of the operator key, never the secret of a generated one', async () => {
    const made = await call('POST', '/v1/keys', {
      body: { name: 'till', scopes: ['checkout'] },
      headers: { 'idempotency-key': 'till-key' },
    });
    const key = made.body['key'] as string;
    secrets['generatedKey'] = key;
    expect(made.status).toBe(201);
    expect(key.startsWith(`${String(made.body['prefix'])}_`)).toBe(true);
    // a replay answers the same key, without its secret, and makes no other
    const replayed = await call('POST', '/v1/keys', {
      body: { name: 'till', scopes: ['checkout'] },
      headers: { 'idempotency-key': 'till-key' },
    });
    const { key: _, ...shown } = made.body;
    expect(replayed).toMatchObject({ status: 200, body: { ...shown, replayed: true } });
    expect(replayed.body['key']).toBeUndefined();
    const listed = JSON.stringify((await call('GET', '/v1/keys')).body);
    expect(listed).not.toContain(key);
    expect(listed).not.toContain(key.slice(String(made.body['prefix']).length + 1));
    expect(listed).not.toContain(ADMIN_KEY.slice(0, 8));
    expect(listed).not.toContain(ADMIN_KEY.slice(3, 11));
    expect(
      (JSON.parse(listed) as { items: { name: string; prefix: string }[] }).items.find(
        (k) => k.name === 'STOCKROOM_ADMIN_KEY',
      )?.prefix,
    ).toMatch(/^sr_[0-9a-f]{12}$/);
  });

  it('a signed sync push is taken by the server, which opens the sealed source secret with its key', async () => {
    const batch = { source: 'wms-sealed', items: [{ sku: 'SEC-1', warehouse: 'SEC', on_hand: 3 }] };
    const t = Math.floor(Date.now() / 1000);
    const unsigned = await call('POST', '/v1/stock/sync', { body: batch });
    expect(unsigned.body).toMatchObject({ code: 'invalid_signature' });
    const taken = await call('POST', '/v1/stock/sync', {
      body: batch,
      headers: { 'x-stockroom-signature': signWebhook(secrets['syncSecret'] ?? '', JSON.stringify(batch), t) },
    });
    expect(taken.status).toBe(200);
  });

  it('after the server stops, no table holds a secret in the clear (channel secrets are sealed), nor a plain hash of a key', async () => {
    expect(await server.stop()).toBe(0);
    await expectServerDatabaseReconciled(database);
    const s = await database.open();
    try {
      const dump = await dumpDatabase(s, []);
      expect(dump).toContain('SEC-1'); // the dump reads what is there
      for (const [name, secret] of Object.entries({
        ...secrets,
        adminKey: ADMIN_KEY,
        adminKeyStart: ADMIN_KEY.slice(0, 8),
      })) {
        expect({ name, inDatabase: dump.includes(secret) }).toEqual({ name, inDatabase: false });
      }
      for (const key of [ADMIN_KEY, secrets['generatedKey'] ?? '']) expect(dump).not.toContain(sha256(key));
      const { rows } = await s.db.query<{ secrets: Record<string, string> }>('SELECT secrets FROM channels');
      expect(rows.map((r) => Object.keys(r.secrets))).toEqual(Array(4).fill(['sealed'])); // where they are kept, sealed
      const sources = await s.db.query<{ secret: string | null; secret_sealed: string | null }>(
        'SELECT secret, secret_sealed FROM sync_sources',
      );
      expect(sources.rows.map((r) => [r.secret, r.secret_sealed?.startsWith('v1.')])).toEqual([[null, true]]);
    } finally {
      await s.close();
    }
  });
});

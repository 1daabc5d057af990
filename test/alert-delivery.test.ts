import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/domain/signature.js';
import { DeliveryWorker } from '../src/infra/delivery-worker.js';
import type { ChannelInput, WebhookInput } from '../src/index.js';
import { listOutbox } from '../src/store/outbox.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers, postgresUrl } from './support/databases.js';
import { useStockroom, world } from './support/harness.js';
import type { Harness } from './support/harness.js';
import { useDelivery } from './support/delivery.js';
import { httpReceiver, smtpReceiver } from './support/receivers.js';

const SECRET = 'whsec-0123456789abcdef';

/** Takes a fresh variant with 6 units (threshold 5) down to 0: low_stock, then out_of_stock, per warehouse and overall. */
async function sellOut(h: Harness): Promise<{ sku: string; warehouse: string }> {
  const { sku, wh } = await world(h.s, [6], { low_stock_threshold: 5 });
  await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -1, reason: 'damaged' });
  await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -5, reason: 'damaged' });
  return { sku, warehouse: wh[0]! };
}

describe.each(drivers())('alert delivery on %s', (driver) => {
  const h = useStockroom(driver);
  const { closers, worker, openReceiver } = useDelivery(h);

  it('posts signed webhooks: the event id to de-duplicate by, its type, and a fresh HMAC over timestamp and body', async () => {
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({
      url: `${receiver.url}/hooks/stock`,
      events: ['low_stock', 'out_of_stock'],
      secret: SECRET,
    });
    expect(hook).toMatchObject({
      kind: 'webhook',
      target: `${receiver.url}/hooks/***`,
      events: ['low_stock', 'out_of_stock'],
    });
    expect(JSON.stringify(hook)).not.toContain(SECRET);
    const { sku, warehouse } = await sellOut(h);
    await worker().start();

    const got = (await receiver.received(4)).slice(0, 4);
    const bodies = got.map(
      (r) => JSON.parse(r.body) as { id: string; type: string; data: Record<string, string | number | null> },
    );
    expect(bodies.map((b) => `${b.type}@${String(b.data['warehouse'] ?? '*')}:${String(b.data['available'])}`)).toEqual(
      [`low_stock@${warehouse}:5`, 'low_stock@*:5', `out_of_stock@${warehouse}:0`, 'out_of_stock@*:0'],
    );
    expect(bodies[0]).toEqual({
      id: expect.stringMatching(/^\d+$/) as unknown,
      type: 'low_stock',
      created_at: expect.any(String) as unknown,
      data: {
        alert_id: expect.any(Number) as unknown,
        type: 'low_stock',
        sku,
        warehouse,
        available: 5,
        threshold: 5,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      },
    });
    expect(new Set(bodies.map((b) => b.id)).size).toBe(4);
    for (const r of got) {
      expect(r.path).toBe('/hooks/stock');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-stockroom-event-id']).toBe((JSON.parse(r.body) as { id: string }).id);
      const signature = String(r.headers['x-stockroom-signature']);
      expect(verifyWebhook(SECRET, r.body, signature, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifyWebhook(SECRET, r.body, signature, Math.floor(Date.now() / 1000) + 3600)).toBe(false); // a replay an hour later
    }
    await expect
      .poll(async () => (await h.s.channels.deliveries({ channel: String(hook.id) })).items.map((d) => d.status))
      .toEqual(Array(4).fill('delivered'));
  });

  it('sends Slack incoming-webhook text and Telegram sendMessage, only for the events each channel wants', async () => {
    const slack = await openReceiver();
    const telegram = await openReceiver();
    telegram.answer = () => ({ status: 200, body: { ok: true, result: { message_id: 1 } } });
    const channels = [
      await h.s.channels.add({ kind: 'slack', url: `${slack.url}/services/T000/B000/XXXX`, events: ['out_of_stock'] }),
    ];
    channels.push(
      await h.s.channels.add({
        kind: 'telegram',
        bot_token: '123456:ABC-def_GHI',
        chat_id: '-100200300',
        api_url: telegram.url,
        events: ['out_of_stock'],
      }),
    );
    expect(channels.map((c) => c.target)).toEqual([`${slack.url}/services/T0…/B0…/***`, 'chat -100200300']); // a Slack URL is a secret
    const { sku, warehouse } = await sellOut(h);
    await worker().start();

    const [first, second] = await slack.received(2);
    expect(JSON.parse(first!.body)).toEqual({ text: `Out of stock: ${sku} at ${warehouse}, 0 available` });
    expect(JSON.parse(second!.body)).toEqual({ text: `Out of stock: ${sku} across all warehouses, 0 available` });
    const sent = await telegram.received(2);
    expect(sent.map((r) => r.path)).toEqual([
      '/bot123456:ABC-def_GHI/sendMessage',
      '/bot123456:ABC-def_GHI/sendMessage',
    ]);
    expect(JSON.parse(sent[0]!.body)).toEqual({
      chat_id: '-100200300',
      text: `Out of stock: ${sku} at ${warehouse}, 0 available`,
      disable_web_page_preview: true,
    });
    for (const c of channels) {
      await expect
        .poll(async () => (await h.s.channels.deliveries({ channel: String(c.id), status: 'delivered' })).items.length)
        .toBe(2);
    }
    expect(slack.items.length + telegram.items.length).toBe(4); // no low_stock to either
  });

  it('emails alerts over SMTP to a real server', async () => {
    const smtp = await smtpReceiver();
    closers.push(() => smtp.close());
    await h.s.channels.add({
      kind: 'email',
      smtp_url: smtp.url,
      from: 'stockroom@shop.test',
      to: 'buyer@shop.test, ops@shop.test',
      events: ['out_of_stock'],
    });
    const { sku, warehouse } = await sellOut(h);
    await worker().start();

    const [mail] = await smtp.received(2);
    expect(mail).toMatchObject({
      from: 'stockroom@shop.test',
      to: 'buyer@shop.test, ops@shop.test',
      subject: `Out of stock: ${sku} at ${warehouse}, 0 available`,
    });
    expect(mail!.text).toContain(`sku: ${sku}`);
    expect(mail!.messageId).toMatch(/^<stockroom-event-\d+@stockroom>$/);
  });

  it('retries a failing receiver with backoff, logging every try, until it takes the event', async () => {
    const receiver = await openReceiver();
    const tries = new Map<string, number>();
    receiver.answer = (_, r) => {
      const id = String(r.headers['x-stockroom-event-id']);
      tries.set(id, (tries.get(id) ?? 0) + 1);
      return (tries.get(id) ?? 0) < 3 ? { status: 503, body: { error: 'busy' } } : { status: 204 };
    };
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['out_of_stock'], secret: SECRET });
    const { warehouse } = await sellOut(h);
    await worker({ maxAttempts: 5 }).start();

    const got = await receiver.received(6); // two events, each refused twice and then taken
    expect([...tries.values()]).toEqual([3, 3]); // a retry carries the same event id
    expect(JSON.parse(got[0]!.body)).toMatchObject({ data: { warehouse } });
    await expect
      .poll(async () => (await h.s.channels.deliveries({ channel: String(hook.id), status: 'delivered' })).items.length)
      .toBe(2);
    for (const d of (await h.s.channels.deliveries({ channel: String(hook.id) })).items) {
      expect(d).toMatchObject({ status: 'delivered', attempts: 3, last_error: null, next_attempt_at: null });
      expect(d.log.map((a) => [a.attempt, a.ok, a.status_code])).toEqual([
        [1, false, 503],
        [2, false, 503],
        [3, true, 204],
      ]);
      expect(d.log[0]!.error).toContain('503');
      // each retry waited for its backoff: at least half the base delay (20 ms), then twice that
      expect(Date.parse(d.log[1]!.started_at) - Date.parse(d.log[0]!.started_at)).toBeGreaterThanOrEqual(10);
      expect(Date.parse(d.log[2]!.started_at) - Date.parse(d.log[1]!.started_at)).toBeGreaterThanOrEqual(20);
    }
  });

  it('lets a receiver that hangs hold up only its own channel, and sends each channel its events in order', async () => {
    const stuck = await httpReceiver();
    const fine = await openReceiver();
    stuck.answer = () => 'hang';
    const hung = await h.s.channels.addWebhook({
      url: stuck.url,
      events: ['low_stock', 'out_of_stock'],
      secret: SECRET,
    });
    await h.s.channels.addWebhook({ url: fine.url, events: ['low_stock', 'out_of_stock'], secret: SECRET });
    await sellOut(h);
    await sellOut(h);
    await worker({ batch: 2, timeoutMs: 3000 }).start();
    closers.push(() => stuck.close()); // first of all: the hanging try fails at once instead of at its timeout

    // 8 events to each; one slot is held by the receiver that hangs, the other serves the one that answers
    const got = await fine.received(8);
    const ids = got.map((r) => Number(r.headers['x-stockroom-event-id']));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(await stuck.received(1)).toHaveLength(1); // its first event, still waiting for an answer
    expect(
      (await h.s.channels.deliveries({ channel: String(hung.id), status: 'pending' })).items
        .map((d) => d.attempts)
        .sort(),
    ).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('gives up after the last try (a dead letter), and sends it again when retried by hand', async () => {
    const receiver = await openReceiver();
    let up = false;
    receiver.answer = () => (up ? { status: 200 } : { status: 500 });
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['out_of_stock'], secret: SECRET });
    await sellOut(h);
    await worker({ maxAttempts: 3 }).start();

    await expect
      .poll(async () => (await h.s.channels.deliveries({ channel: String(hook.id), status: 'dead' })).items.length)
      .toBe(2);
    expect(receiver.items.length).toBe(6);
    const [dead] = (await h.s.channels.deliveries({ channel: String(hook.id), status: 'dead' })).items;
    expect(dead).toMatchObject({
      attempts: 3,
      next_attempt_at: null,
      last_error: expect.stringContaining('500') as unknown,
    });
    await expect(h.s.channels.retry(dead!.id + 1000)).rejects.toThrow('not found');

    up = true;
    await h.s.channels.retry(dead!.id);
    // only a dead one is retried: this one is pending again, or already delivered by the worker still running
    await expect(h.s.channels.retry(dead!.id)).rejects.toThrow(/cannot retry a delivery that is (pending|delivered)/);
    await expect
      .poll(async () =>
        (await h.s.channels.deliveries({ channel: String(hook.id), status: 'delivered' })).items.map((d) => d.id),
      )
      .toEqual([dead!.id]);
    expect(receiver.items.length).toBe(7);
  });

  it('stops sending what a removed channel still had: its deliveries are cancelled, kept in the log, never due again', async () => {
    const receiver = await httpReceiver();
    receiver.answer = () => 'hang'; // the first try is in flight when the channel is removed
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['out_of_stock'], secret: SECRET });
    await sellOut(h); // two events for the channel
    const sender = worker({ backoffMs: 1, maxAttempts: 5 });
    const round = sender.deliverDue();
    await receiver.received(1);
    await h.s.channels.remove(hook.id);
    await receiver.close(); // the try in flight fails now; a retry, were there one, would fail too
    await round;

    const log = async () => (await h.s.channels.deliveries({ channel: String(hook.id) })).items;
    expect((await log()).map((d) => [d.status, d.attempts, d.next_attempt_at, d.log.length])).toEqual([
      ['cancelled', 0, null, 0],
      ['cancelled', 1, null, 1], // the try that was in flight is logged, and nothing after it
    ]);
    expect((await h.s.channels.deliveries({ channel: String(hook.id), status: 'pending' })).items).toEqual([]);
    await expect(h.s.channels.retry((await log())[0]!.id)).rejects.toThrow('cannot retry a delivery that is cancelled');
    // a restarted worker has nothing to send either
    expect(await worker({ backoffMs: 1 }).deliverDue()).toMatchObject({ delivered: 0, failed: 0 });
    expect(receiver.items).toHaveLength(1);
    expect((await log()).map((d) => d.attempts)).toEqual([0, 1]);
  });

  it("cancels a removed channel's dead letters, so nothing is left to retry or to alert on", async () => {
    const receiver = await openReceiver();
    receiver.answer = () => ({ status: 500 });
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['out_of_stock'], secret: SECRET });
    await sellOut(h);
    await worker({ maxAttempts: 1 }).deliverDue();
    const dead = (await h.s.channels.deliveries({ channel: String(hook.id), status: 'dead' })).items;
    expect(dead).toHaveLength(2);
    const before = await h.s.channels.unsent();

    await h.s.channels.remove(hook.id);
    expect((await h.s.channels.deliveries({ channel: String(hook.id) })).items.map((d) => d.status)).toEqual([
      'cancelled',
      'cancelled',
    ]);
    expect((await h.s.channels.unsent()).dead).toBe(before.dead - 2);
    await expect(h.s.channels.retry(dead[0]!.id)).rejects.toThrow('cannot retry a delivery that is cancelled');
  });

  it('sends nothing for a change that rolled back', async () => {
    const receiver = await openReceiver();
    const hook = await h.s.channels.addWebhook({ url: receiver.url, events: ['out_of_stock'], secret: SECRET });
    const { sku, wh } = await world(h.s, [3], { low_stock_threshold: 1 });
    // a reservation of everything in a transaction that then fails: the alert it raised goes with it
    await expect(
      h.s.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE stock_levels SET reserved = 3 WHERE variant_id = (SELECT id FROM variants WHERE sku = $1)
                         AND warehouse_id = (SELECT id FROM warehouses WHERE code = $2)`,
          [sku, wh[0]],
        );
        throw new Error('payment provider down');
      }),
    ).rejects.toThrow('payment provider down');
    const later = await sellOut(h); // a committed change, after it
    await worker().start();
    // once every delivery of the channel is settled, the receiver has had exactly the committed change's two
    await expect
      .poll(async () => (await h.s.channels.deliveries({ channel: String(hook.id) })).items.map((d) => d.status))
      .toEqual(['delivered', 'delivered']);
    expect(receiver.items.map((r) => (JSON.parse(r.body) as { data: { sku: string } }).data.sku)).toEqual([
      later.sku,
      later.sku,
    ]);
  });

  it('forgets what got through once past retention, keeping dead letters, what they need, and the alerts', async () => {
    const good = await openReceiver();
    const bad = await openReceiver();
    bad.answer = () => ({ status: 500 });
    const kept = await h.s.channels.addWebhook({
      url: good.url,
      events: ['low_stock', 'out_of_stock'],
      secret: SECRET,
    });
    const failing = await h.s.channels.addWebhook({ url: bad.url, events: ['out_of_stock'], secret: SECRET });
    const { sku } = await sellOut(h);
    const outboxOf = async () =>
      (await listOutbox(h.s.db, 'alert', 100_000))
        .map((r) => r.payload as { sku: string; type: string })
        .filter((p) => p.sku === sku)
        .map((p) => p.type);
    expect(await outboxOf()).toEqual(['low_stock', 'low_stock', 'out_of_stock', 'out_of_stock']);
    await worker({ maxAttempts: 1, retentionMs: 1, pruneEveryMs: 0 }).start();

    await expect
      .poll(async () => (await h.s.channels.deliveries({ channel: String(failing.id) })).items.map((d) => d.status))
      .toEqual(['dead', 'dead']);
    expect(await good.received(4)).toHaveLength(4);
    await expect.poll(async () => (await h.s.channels.deliveries({ channel: String(kept.id) })).items).toEqual([]);
    expect(await outboxOf()).toEqual(['out_of_stock', 'out_of_stock']); // the dead letters still need theirs
    expect((await h.s.alerts.list({ sku })).items).toHaveLength(4);
  });

  it('refuses channels it could not send to, naming the field', async () => {
    await expect(h.s.channels.addWebhook({ url: 'ftp://x', events: ['low_stock'], secret: SECRET })).rejects.toThrow(
      '/url',
    );
    await expect(
      h.s.channels.addWebhook({
        url: 'http://x.test',
        events: ['sold_out'],
        secret: SECRET,
      } as unknown as WebhookInput),
    ).rejects.toThrow('/events');
    await expect(
      h.s.channels.addWebhook({ url: 'http://x.test', events: ['low_stock'], secret: 'short' }),
    ).rejects.toThrow('/secret');
    await expect(
      h.s.channels.add({ kind: 'pigeon', events: ['low_stock'] } as unknown as ChannelInput),
    ).rejects.toThrow('/kind');
    await expect(
      h.s.channels.add({ kind: 'email', smtp_url: 'http://x', from: 'a@b', to: 'c@d', events: ['low_stock'] }),
    ).rejects.toThrow('/smtp_url');
    // a sender or a recipient that is no address, or a line break that would add a header of its own
    const smtp = 'smtp://mail.test:25';
    for (const [from, to, field] of [
      ['not an email', 'ops@shop.test', '/from'],
      ['Shop, Inc <stock@shop.test>', 'ops@shop.test', '/from'],
      ['stock@shop.test', 'also not', '/to'],
      ['stock@shop.test', 'ops@shop.test\r\nBcc: thief@evil.test', '/to'],
      ['stock@shop.test', 'ops@shop.test; boss@shop.test', '/to'],
    ] as const)
      await expect(
        h.s.channels.add({ kind: 'email', smtp_url: smtp, from, to, events: ['low_stock'] }),
      ).rejects.toThrow(field);
    expect((await h.s.channels.list()).items).toEqual([]);
    const named = await h.s.channels.add({
      kind: 'email',
      smtp_url: smtp,
      from: '"Shop, Inc" <stock@shop.test>',
      to: 'buyer@shop.test, ops@shop.test',
      events: ['low_stock'],
    });
    await h.s.channels.remove(named.id);
  });
});

// several server processes on one PostgreSQL database each run a worker (the embedded database serves one process)
describe.skipIf(!postgresUrl())('alert delivery from several processes on postgres', () => {
  const h = useStockroom('postgres');
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('two workers on one database send each delivery once between them', async () => {
    const receiver = await httpReceiver();
    closers.push(() => receiver.close());
    const hook = await h.s.channels.addWebhook({
      url: receiver.url,
      events: ['low_stock', 'out_of_stock'],
      secret: SECRET,
    });
    for (let i = 0; i < 5; i++) await sellOut(h); // 20 events
    const other = await openPostgres(h.test.url ?? '', { max: 4 });
    closers.push(() => other.close());
    const first = new DeliveryWorker(h.s.db, { pollMs: 20, batch: 3 });
    closers.push(() => first.stop());
    const second = new DeliveryWorker(other, { pollMs: 20, batch: 3 });
    closers.push(() => second.stop());
    await Promise.all([first.start(), second.start()]);
    await expect
      .poll(async () => (await h.s.channels.deliveries({ channel: String(hook.id), status: 'delivered' })).items.length)
      .toBe(20);
    const ids = receiver.items.map((r) => String(r.headers['x-stockroom-event-id']));
    expect(new Set(ids).size).toBe(20);
    expect(ids).toHaveLength(20);
    // between them they sent each once (which worker claims a channel's next delivery is a race, so either
    // may have sent all of them on a busy machine)
    expect(first.counts.delivered + second.counts.delivered).toBe(20);
  });
});

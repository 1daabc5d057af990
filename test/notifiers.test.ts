import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../src/domain/delivery.js';
import { SendFailedError, send } from '../src/infra/notifiers.js';
import { httpReceiver } from './support/receivers.js';
import type { HttpReceiver } from './support/receivers.js';
import { expectNoSecretIn } from './support/secrets.js';

const event: DeliveryEvent = {
  id: '1',
  type: 'stock.shortfall',
  created_at: '2026-01-15T10:00:00.000Z',
  data: { sku: 'TEE-M', warehouse: 'AMS', on_hand: 1, reserved: 3, shortfall: 2 },
};
const options = { timeoutMs: 5_000, now: () => 1_700_000_000 };

/** The message a send that fails ends with. */
async function failureOf(attempt: Promise<number>): Promise<string> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SendFailedError);
  return (error as SendFailedError).message;
}

describe('what a failed send says, against a real receiver that echoes what it got', () => {
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await httpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('masks a secret before the message is cut short, so no part of one straddling the cut survives', async () => {
    const url = `${receiver.url}/services/T0AAA/B0BBB/SLACKTRUNCSECRET42`;
    // the echo moves one character at a time across wherever the message is cut
    for (let padding = 100; padding < 400; padding++) {
      receiver.answer = () => ({ status: 500, body: `${'x'.repeat(padding)} ${url}` });
      const message = await failureOf(send('slack', { url }, event, options));
      expect(message).not.toMatch(/SLAC|ET42/);
      expect(message.length).toBeLessThanOrEqual(301);
    }
  });

  it("sends Telegram's bot path after a Bot API proxy's own path, and keeps the proxy's credentials and query out of errors", async () => {
    const { port } = new URL(receiver.url);
    const config = {
      api_url: `http://bob:APIURLPASS@127.0.0.1:${port}/tgapi?k=TGAPIQUERY`,
      bot_token: '987654:TGSECRETTOKEN',
      chat_id: '42',
    };
    receiver.answer = () => ({ status: 200, body: { ok: true } });
    expect(await send('telegram', config, event, options)).toBe(200);
    const request = receiver.items.at(-1)!;
    expect(request.path).toBe('/tgapi/bot987654:TGSECRETTOKEN/sendMessage?k=TGAPIQUERY');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('bob:APIURLPASS').toString('base64')}`);
    receiver.answer = (_n, got) => ({ status: 502, body: { echoed: got.path, auth: got.headers.authorization } });
    const message = await failureOf(send('telegram', config, event, options));
    expectNoSecretIn(message, [
      'APIURLPASS',
      'TGAPIQUERY',
      'TGSECRETTOKEN',
      Buffer.from('bob:APIURLPASS').toString('base64'),
    ]);
    expect(message).toContain('answered 502');
  });
});

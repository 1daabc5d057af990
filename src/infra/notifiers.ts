import type { Dispatcher, request as undiciRequest } from 'undici';
import { details, headline } from '../domain/delivery.js';
import { signWebhook } from '../domain/signature.js';
import type { ChannelKind, DeliveryEvent } from '../domain/delivery.js';
import {
  CHANNEL_SECRET_FIELDS,
  MASK,
  basicCredentials,
  redact,
  redactUrl,
  secretFragments,
} from '../domain/secrets.js';

/** A try that did not get through: what the log says, and the receiver's status code if it answered. */
export class SendFailedError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | null = null,
  ) {
    super(message);
    this.name = 'SendFailedError';
  }
}

/** How one try is sent: how long it may take, and the clock its signature is dated by. */
export interface SendOptions {
  timeoutMs: number;
  /** unix seconds, for the webhook signature */
  now: () => number;
}

const USER_AGENT = 'stockroom-delivery/1';
/** How much of a failed try's error (a receiver's answer, mostly) the log and the delivery record keep. */
const MESSAGE_LIMIT = 300;

/**
 * One keep-alive connection pool for every channel's receivers: undici's own request API, which costs a fifth of the
 * CPU of `fetch` with `AbortSignal.timeout` per try (about 105 against 545 microseconds here, sender and receiver;
 * bench/README.md), what counts once every stock change is an event.
 */
let receivers: Promise<{ pool: Dispatcher; request: typeof undiciRequest }> | undefined;
/** undici and its pool, loaded on the first delivery: a CLI command that sends nothing does not pay for importing it */
const receiversPool = () =>
  (receivers ??= import('undici').then(({ Agent, request }) => ({
    pool: new Agent({ keepAliveTimeout: 4_000, connections: 64 }),
    request,
  })));

/** How much of a receiver's answer is read: enough for an error message and a Telegram reply, never a flood. */
const ANSWER_LIMIT = 64 * 1024;

/** The first `limit` bytes of a body as text; the rest is not read (the connection is dropped instead). */
async function readAtMost(body: AsyncIterable<Buffer> & { destroy: () => unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** What a receiver answered: its status, and its body read on demand. */
interface Answer {
  status: number;
  text: () => Promise<string>;
}

/** `shownAs` is how errors name the receiver: the URL itself may be a secret (Slack, Telegram). */
async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  shownAs = redactUrl(url),
): Promise<Answer> {
  // the whole try, connecting and reading the answer included, is bounded by one deadline
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    let status: number;
    let text: string;
    try {
      // credentials in the URL go as Basic authentication, as curl and browsers send them, never in the request line
      const target = new URL(url);
      const credentials =
        target.username || target.password ? { authorization: `Basic ${basicCredentials(target)}` } : {};
      target.username = '';
      target.password = '';
      // no redirect is followed (undici's request follows none): a 3xx is an answer that is not a success
      const { pool, request } = await receiversPool();
      const response = await request(target, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...credentials, ...headers },
        signal: deadline.signal,
        dispatcher: pool,
      });
      status = response.statusCode;
      // kept whole (within reason): it is cut short only once secrets are masked, or a cut would leave half of one;
      // read no further than that, whatever a receiver sends back
      text = await readAtMost(response.body, ANSWER_LIMIT);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new SendFailedError(`${error instanceof Error ? error.message : String(error)}${cause}`);
    }
    if (status < 200 || status >= 300)
      throw new SendFailedError(`${shownAs} answered ${status}${text ? `: ${text}` : ''}`, status);
    return { status, text: () => Promise.resolve(text) };
  } finally {
    clearTimeout(timer);
  }
}

/** Signed JSON: the whole event, with its id in a header too for receivers that de-duplicate before parsing. */
async function webhook(config: Record<string, string>, event: DeliveryEvent, options: SendOptions): Promise<number> {
  const body = JSON.stringify(event);
  const response = await post(
    config['url'] ?? '',
    body,
    {
      'x-stockroom-event': event.type,
      'x-stockroom-event-id': event.id,
      'x-stockroom-signature': signWebhook(config['secret'] ?? '', body, options.now()),
    },
    options.timeoutMs,
  );
  return response.status;
}

/** A Slack incoming webhook: `text` is what the channel shows (and the notification). */
async function slack(config: Record<string, string>, event: DeliveryEvent, options: SendOptions): Promise<number> {
  const response = await post(config['url'] ?? '', JSON.stringify({ text: headline(event) }), {}, options.timeoutMs);
  return response.status;
}

/** The Bot API's sendMessage; it answers 200 with ok:false for some refusals, which count as failures. */
async function telegram(config: Record<string, string>, event: DeliveryEvent, options: SendOptions): Promise<number> {
  const base = config['api_url'] ?? 'https://api.telegram.org';
  // the bot's path goes after the base's own path, never into its query string
  const target = new URL(base);
  target.pathname = `${target.pathname.replace(/\/+$/, '')}/bot${config['bot_token'] ?? ''}/sendMessage`;
  const response = await post(
    target.href,
    JSON.stringify({ chat_id: config['chat_id'], text: headline(event), disable_web_page_preview: true }),
    {},
    options.timeoutMs,
    `${redactUrl(base)}/bot${MASK}/sendMessage`,
  );
  const answer = (await response
    .text()
    .then((text) => JSON.parse(text) as unknown)
    .catch(() => null)) as { ok?: boolean; description?: string } | null;
  if (answer?.ok !== true)
    throw new SendFailedError(
      `Telegram refused the message: ${answer?.description ?? 'no ok in its answer'}`,
      response.status,
    );
  return response.status;
}

/** SMTP through nodemailer; the event id is the message's Message-ID domain part, so mail clients thread repeats. */
async function email(config: Record<string, string>, event: DeliveryEvent, options: SendOptions): Promise<number> {
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    url: config['smtp_url'] ?? '',
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    await transport.sendMail({
      from: config['from'],
      to: config['to'],
      subject: headline(event),
      text: details(event),
      messageId: `<stockroom-event-${event.id}@stockroom>`,
      headers: { 'X-Stockroom-Event-Id': event.id },
    });
  } catch (error) {
    const refusal = error as Error & { responseCode?: number };
    throw new SendFailedError(refusal.message, refusal.responseCode ?? null);
  } finally {
    transport.close();
  }
  return 250;
}

const SENDERS: Record<
  ChannelKind,
  (config: Record<string, string>, event: DeliveryEvent, options: SendOptions) => Promise<number>
> = {
  webhook,
  slack,
  telegram,
  email,
};

/**
 * Sends events to a webhook that takes them in batches: one signed POST of {"events": [...]} (oldest first), with
 * `X-Stockroom-Event: batch`. The events come written out already, comma-separated (`count` of them): a gathered
 * delivery's rows are joined as stored, not parsed and written again. @returns the receiver's success code; throws
 * SendFailedError as `send` does.
 */
export async function sendBatch(
  config: Record<string, string>,
  events: { json: string; count: number },
  options: SendOptions,
): Promise<number> {
  try {
    const body = `{"events":[${events.json}]}`;
    const response = await post(
      config['url'] ?? '',
      body,
      {
        'x-stockroom-event': 'batch',
        'x-stockroom-batch-size': String(events.count),
        'x-stockroom-signature': signWebhook(config['secret'] ?? '', body, options.now()),
      },
      options.timeoutMs,
    );
    return response.status;
  } catch (error) {
    throw cleaned(error, config);
  }
}

/** A failure's message with the channel's secrets masked, cut to what the log keeps. */
function cleaned(error: unknown, config: Record<string, string>): SendFailedError {
  const fragments = secretFragments(CHANNEL_SECRET_FIELDS.flatMap((field) => config[field] ?? []));
  const message = redact(error instanceof Error ? error.message : String(error), fragments);
  return new SendFailedError(
    message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}…` : message,
    error instanceof SendFailedError ? error.statusCode : null,
  );
}

/**
 * Sends one event over one channel. @returns the receiver's success code; throws SendFailedError otherwise, its
 * message cleaned of the channel's secrets (fetch and nodemailer quote URLs, a receiver may echo what it got).
 */
export async function send(
  kind: ChannelKind,
  config: Record<string, string>,
  event: DeliveryEvent,
  options: SendOptions,
): Promise<number> {
  try {
    return await SENDERS[kind](config, event, options);
  } catch (error) {
    throw cleaned(error, config);
  }
}

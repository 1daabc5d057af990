import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** Something that arrives, and a way to wait for the n-th arrival without sleeping. */
class Inbox<T> {
  readonly items: T[] = [];
  private readonly waiting = new Set<{ count: number; resolve: () => void }>();

  push(item: T): void {
    this.items.push(item);
    for (const w of this.waiting) {
      if (this.items.length >= w.count) {
        this.waiting.delete(w);
        w.resolve();
      }
    }
  }

  /** resolves with everything received once there are at least `count` */
  async received(count: number): Promise<T[]> {
    if (this.items.length < count) await new Promise<void>((resolve) => this.waiting.add({ count, resolve }));
    return this.items;
  }
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpReceiver extends Inbox<ReceivedRequest> {
  url: string;
  /** what the receiver answers the n-th request (0-based); default 200 {"ok":true} */
  answer: (n: number, request: ReceivedRequest) => { status: number; body?: unknown } | 'hang';
  close(): Promise<void>;
}

/** A real HTTP server on loopback playing a webhook receiver, Slack or the Telegram Bot API. */
export async function httpReceiver(): Promise<HttpReceiver> {
  const inbox = new Inbox<ReceivedRequest>() as HttpReceiver;
  inbox.answer = () => ({ status: 200, body: { ok: true } });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const n = inbox.items.length;
      inbox.push(request);
      const answer = inbox.answer(n, request);
      if (answer === 'hang') return; // holds the request open: the sender is "mid-delivery"
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  inbox.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  inbox.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return inbox;
}

export interface ReceivedMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  headers: Map<string, unknown>;
}

export interface SmtpReceiver extends Inbox<ReceivedMail> {
  url: string;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback (the smtp-server package), parsing what it is sent with mailparser. With
 * `rejectWith`, it takes any login and then refuses every recipient with that message (a 550).
 */
export async function smtpReceiver(options: { rejectWith?: string } = {}): Promise<SmtpReceiver> {
  const inbox = new Inbox<ReceivedMail>() as SmtpReceiver;
  const { rejectWith } = options;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username });
    },
    onRcptTo(_address, _session, callback) {
      callback(rejectWith === undefined ? undefined : Object.assign(new Error(rejectWith), { responseCode: 550 }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const address = (a: typeof mail.from | typeof mail.to): string =>
            [a ?? []]
              .flat()
              .map((x) => x.text)
              .join(', ');
          inbox.push({
            from: address(mail.from),
            to: address(mail.to),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            messageId: mail.messageId ?? '',
            headers: mail.headers,
          });
          callback();
        })
        .catch((err: unknown) => {
          callback(err as Error);
        });
    },
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve();
    }),
  );
  inbox.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  inbox.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  return inbox;
}

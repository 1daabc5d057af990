import { createServer, connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface CommitCutter {
  /** the target's URL with this proxy's address in place of the server's */
  url: string;
  /**
   * Arms the cut: the next COMMIT of a transaction that claimed an idempotency key reaches the server, which
   * commits it, but its answer never reaches the client: the connection is cut when the server says the COMMIT is
   * done (the statements' answers before it pass), so the commit has happened when the client hears the connection
   * is gone. Resolves then.
   */
  cutNextKeyedCommit: () => Promise<void>;
  /**
   * Arms a loss on the way there: the next COMMIT of a transaction that claimed an idempotency key never reaches
   * the server. The client's connection is cut, and the server's closed with it (as a proxy that loses its client
   * does), so the server rolls the transaction back when it notices. Resolves once both are closed.
   */
  dropNextKeyedCommit: () => Promise<void>;
  /**
   * Arms a loss the server is not told of (a cut network): the next COMMIT of a transaction that claimed an
   * idempotency key is held here and never reaches the server, whose backend stays in the transaction, holding its
   * locks. Resolves, once the COMMIT is held, with `cut`, which cuts the client's connection and leaves the
   * server's open.
   */
  stallNextKeyedCommit: () => Promise<() => void>;
  close: () => Promise<void>;
}

/**
 * The messages of one side of a connection, read from its byte stream as it passes (PostgreSQL protocol 3): the
 * client's, whose first (the startup message) has no type byte, or the server's, which all have one.
 */
class MessageReader {
  private buffer = Buffer.alloc(0);

  constructor(private started: boolean) {}

  /** Every complete message in `chunk` (with what came before it): its type byte, its body as text, its bytes. */
  read(chunk: Buffer): { type: string; text: string; bytes: Buffer }[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const messages: { type: string; text: string; bytes: Buffer }[] = [];
    for (;;) {
      // the startup message has no type byte: just its length
      const header = this.started ? 5 : 4;
      if (this.buffer.length < header) return messages;
      const length = this.buffer.readInt32BE(this.started ? 1 : 0);
      const total = (this.started ? 1 : 0) + length;
      if (this.buffer.length < total) return messages;
      const type = this.started ? String.fromCharCode(this.buffer[0] ?? 0) : '';
      messages.push({
        type,
        text: this.buffer.subarray(header, total).toString('utf8'),
        bytes: this.buffer.subarray(0, total),
      });
      this.buffer = this.buffer.subarray(total);
      this.started = true;
    }
  }
}

/**
 * A TCP proxy in front of a PostgreSQL server that can lose one COMMIT's answer: the fault of a network or a
 * server dying right after committing, where the client cannot know whether its transaction is in. It reads
 * the queries as they pass (a Parse or simple Query naming idempotency_keys marks the transaction as keyed),
 * and forwards every byte unchanged until armed.
 */
export async function startCommitCutter(targetUrl: string): Promise<CommitCutter> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let armed:
    { lose: 'answer' | 'commit'; done: () => void } | { lose: 'stall'; done: (cut: () => void) => void } | undefined;

  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const reader = new MessageReader(false);
    const answers = new MessageReader(true);
    let keyed = false;
    let cutDone: (() => void) | undefined;
    // the client is cut and the server's connection kept open: closing one no longer closes the other
    let stalled = false;
    // complete messages are passed on one by one, so that a COMMIT can be kept from the server
    client.on('data', (chunk: Buffer) => {
      for (const message of reader.read(chunk)) {
        if (client.destroyed) return;
        if ((message.type === 'P' || message.type === 'Q') && message.text.includes('idempotency_keys')) keyed = true;
        const query = message.type === 'Q' ? message.text.replace(/\0/g, '').trim().toUpperCase() : '';
        if (query === 'COMMIT' && keyed && armed?.lose === 'stall') {
          // the COMMIT is lost on the way, and the server never hears of it: its backend waits in the transaction
          const done = armed.done;
          armed = undefined;
          stalled = true;
          done(() => client.destroy());
          return;
        }
        if (query === 'COMMIT' && keyed && armed?.lose === 'commit') {
          // the COMMIT is lost on the way: the client is cut, and the server hears its connection close
          upstream.once('close', armed.done);
          armed = undefined;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(message.bytes);
        if (query === 'COMMIT' && keyed && armed?.lose === 'answer') {
          // the COMMIT is on its way to the server; the client will never hear how it went
          cutDone = armed.done;
          armed = undefined;
        }
        if (query === 'COMMIT' || query === 'ROLLBACK') keyed = false;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const message of answers.read(chunk)) {
        if (client.destroyed) return;
        if (cutDone && message.type === 'C' && message.text.startsWith('COMMIT')) {
          // the server says the COMMIT is done: it is in, and that answer goes nowhere (the statements' answers
          // before it went through)
          const done = cutDone;
          cutDone = undefined;
          client.destroy();
          upstream.destroy();
          done();
          return;
        }
        client.write(message.bytes);
      }
    });
    const closeBoth = (): void => {
      if (!stalled) upstream.destroy();
      client.destroy();
      sockets.delete(client);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream
      .on('error', () => client.destroy())
      .on('close', () => {
        client.destroy();
        sockets.delete(upstream);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    cutNextKeyedCommit: () =>
      new Promise<void>((resolve) => {
        armed = { lose: 'answer', done: resolve };
      }),
    dropNextKeyedCommit: () =>
      new Promise<void>((resolve) => {
        armed = { lose: 'commit', done: resolve };
      }),
    stallNextKeyedCommit: () =>
      new Promise<() => void>((resolve) => {
        armed = { lose: 'stall', done: resolve };
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

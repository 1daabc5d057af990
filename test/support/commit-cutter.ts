import { createServer, connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface CommitCutter {
  /** the target's URL with this proxy's address in place of the server's */
  url: string;
  /**
   * Arms the cut: the next COMMIT of a transaction that claimed an idempotency key reaches the server, which
   * commits it, but the answer never reaches the client (its connection is cut first). Resolves once the server
   * has answered that COMMIT, so the commit is known to have happened.
   */
  cutNextKeyedCommit: () => Promise<void>;
  close: () => Promise<void>;
}

/** The frontend messages of one connection, read from its byte stream as it passes (PostgreSQL protocol 3). */
class MessageReader {
  private buffer = Buffer.alloc(0);
  private started = false;

  /** Every complete message in `chunk` (with what came before it): its type byte and body as text. */
  read(chunk: Buffer): { type: string; text: string }[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const messages: { type: string; text: string }[] = [];
    for (;;) {
      // the startup message has no type byte: just its length
      const header = this.started ? 5 : 4;
      if (this.buffer.length < header) return messages;
      const length = this.buffer.readInt32BE(this.started ? 1 : 0);
      const total = (this.started ? 1 : 0) + length;
      if (this.buffer.length < total) return messages;
      const type = this.started ? String.fromCharCode(this.buffer[0] ?? 0) : '';
      messages.push({ type, text: this.buffer.subarray(header, total).toString('utf8') });
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
  let armed: (() => void) | undefined;

  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const reader = new MessageReader();
    let keyed = false;
    let cutDone: (() => void) | undefined;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      for (const message of reader.read(chunk)) {
        if ((message.type === 'P' || message.type === 'Q') && message.text.includes('idempotency_keys')) keyed = true;
        if (message.type !== 'Q') continue;
        const query = message.text.replace(/\0/g, '').trim().toUpperCase();
        if (query === 'COMMIT' && keyed && armed) {
          cutDone = armed;
          armed = undefined;
          // the COMMIT is on its way to the server; the client will never hear how it went
          client.destroy();
        }
        if (query === 'COMMIT' || query === 'ROLLBACK') keyed = false;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutDone) {
        // the server answered the COMMIT: it is in, and the answer goes nowhere
        upstream.destroy();
        cutDone();
        cutDone = undefined;
        return;
      }
      if (!client.destroyed) client.write(chunk);
    });
    const closeBoth = (): void => {
      if (!cutDone) upstream.destroy();
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
        armed = resolve;
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

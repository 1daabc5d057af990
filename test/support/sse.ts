import { request } from 'undici';

export interface SseMessage {
  /** a comment line (heartbeat) has no event */
  comment?: string;
  id?: string;
  event?: string;
  data?: string;
}

/**
 * A Server-Sent Events client for tests: opens the stream, parses messages as they arrive, and lets a test wait
 * for the next message that matches (no sleeping: it resolves when the message is read).
 */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers: { accept: 'text/event-stream', ...headers } });
  const messages: SseMessage[] = [];
  const waiting = new Set<{ from: number; match: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }>();
  let buffer = '';
  let read = 0;
  const deliver = (m: SseMessage): void => {
    messages.push(m);
    for (const w of waiting) {
      if (messages.length - 1 >= w.from && w.match(m)) {
        waiting.delete(w);
        w.resolve(m);
      }
    }
  };
  const pump = (async () => {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const m: SseMessage = {};
        for (const line of block.split('\n')) {
          const at = line.indexOf(':');
          const field = at === -1 ? line : line.slice(0, at);
          const value = at === -1 ? '' : line.slice(at + 1).replace(/^ /, '');
          if (field === '') m.comment = value;
          else if (field === 'id' || field === 'event' || field === 'data') m[field] = value;
        }
        deliver(m);
      }
    }
  })().catch(() => undefined);
  return {
    status: res.statusCode,
    headers: res.headers,
    messages,
    /** the next message (after those already taken) that matches */
    next: (match: (m: SseMessage) => boolean = (m) => m.event !== undefined): Promise<SseMessage> => {
      const from = read;
      const found = messages.slice(from).findIndex(match);
      if (found !== -1) {
        read = from + found + 1;
        return Promise.resolve(messages[from + found] as SseMessage);
      }
      return new Promise((resolve) => {
        waiting.add({
          from,
          match,
          resolve: (m) => {
            read = messages.indexOf(m) + 1;
            resolve(m);
          },
        });
      });
    },
    body: async (): Promise<string> => res.body.text(),
    close: async (): Promise<void> => {
      res.body.destroy();
      await pump;
    },
  };
}

/** The availability item an event carries. */
export const itemOf = (m: SseMessage): { sku: string; available: number; status: string; label: string } =>
  JSON.parse(m.data ?? 'null') as { sku: string; available: number; status: string; label: string };

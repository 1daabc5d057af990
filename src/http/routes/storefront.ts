import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { AvailabilityEvent, AvailabilityFeed } from '../../services/availability-feed.js';
import { AvailabilityQuery, AvailabilityStreamInput, parse } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { DEFAULT_MAX_STREAMS, DEFAULT_MAX_STREAMS_PER_CLIENT, DEFAULT_PUBLIC_RATE_LIMIT } from '../limits.js';
import { limitPublicRoutes } from '../rate-limits.js';
import type { PublicRateLimit } from '../rate-limits.js';
import { Answers } from '../responses.js';
import { Slots } from '../slots.js';
import { routeOptions } from './route-options.js';
import { fromQuery, pageQuery } from './query.js';

/** Settings of the public storefront routes: the live feed and the bounds of its streams. */
export interface StorefrontOptions {
  /** live availability; without it there is no stream route */
  feed?: AvailabilityFeed | undefined;
  /** how often an idle stream gets a comment line, so proxies keep it open and clients notice a dead one */
  heartbeatMs?: number | undefined;
  /** open streams in all; past it a new one is refused with 503 (each holds a socket, a file of the process) */
  maxStreams?: number | undefined;
  /** open streams from one client address; past it a new one is refused with 429 */
  maxStreamsPerClient?: number | undefined;
  /** requests per window one client address may send to these routes (the stream's opening included) */
  rateLimit?: PublicRateLimit | undefined;
  /** where the rate limit's counts are kept, shared by every server process (REDIS_URL); else in this process */
  rateCounts?: Redis | undefined;
  /** told how many streams are open whenever one opens or closes (the metrics gauge) */
  onOpenStreams?: ((open: number) => void) | undefined;
}

/** How often an idle stream gets a comment line unless configured (STOCKROOM_SSE_HEARTBEAT_MS in serve). */
const DEFAULT_HEARTBEAT_MS = 15_000;
/** what a refused stream is asked to wait: long enough for another to close, short for a shopper's page */
const STREAM_RETRY_AFTER_SECONDS = 5;

const frame = (event: AvailabilityEvent): string =>
  `id: ${event.id}\nevent: availability\ndata: ${JSON.stringify(event.item)}\n\n`;

/**
 * One open stream. When the socket cannot take more (a slow client), events are not queued without end: the
 * latest one per SKU waits, and goes out when the socket drains. Memory per stream stays bounded by its SKUs.
 */
class Stream {
  private waiting: Map<string, AvailabilityEvent> | undefined;

  constructor(private readonly res: ServerResponse) {
    res.on('drain', () => {
      const waiting = this.waiting;
      this.waiting = undefined;
      for (const event of waiting?.values() ?? []) this.send(event);
    });
  }

  send(event: AvailabilityEvent): void {
    if (this.waiting) {
      this.waiting.set(event.item.sku, event);
      return;
    }
    if (!this.res.write(frame(event))) this.waiting = new Map();
  }

  ping(): void {
    if (!this.waiting) this.res.write(': ping\n\n');
  }

  end(): void {
    this.res.end();
  }
}

/** The public storefront routes: no key needed. */
export function storefrontRoutes(stockroom: Stockroom, options: StorefrontOptions = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    await limitPublicRoutes(app, options.rateLimit ?? DEFAULT_PUBLIC_RATE_LIMIT, options.rateCounts);
    const skusOf = (query: unknown): unknown => ({ ...(query as object), sku: pageQuery(query).all('sku') });
    // storefronts on any domain may ask, and read every answer: refusals (400, 404, 429, 503) as much as the items
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('access-control-allow-origin', '*');
    });

    app.get(
      '/availability',
      routeOptions('storefront', 'public', 'Status and label of up to 100 SKUs, for shoppers', {
        operationId: 'getAvailability',
        querystring: AvailabilityQuery,
        answer: { schema: Answers.Availability, description: 'One item per SKU asked about, in the order asked' },
        refusals: ['unknown_sku', 'rate_limited'],
      }),
      // sku may be given once or repeated; anything else in the query is checked (and refused) by the schema
      async (req) => fromQuery(() => stockroom.availability.get(parse(AvailabilityQuery, skusOf(req.query)))),
    );

    const feed = options.feed;
    if (!feed) return;
    const streams = new Set<Stream>();
    const slots = new Slots({
      total: options.maxStreams ?? DEFAULT_MAX_STREAMS,
      perClient: options.maxStreamsPerClient ?? DEFAULT_MAX_STREAMS_PER_CLIENT,
      what: 'availability streams',
      retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS,
    });
    const heartbeat = setInterval(() => {
      for (const stream of streams) stream.ping();
    }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS).unref();
    // open streams never finish by themselves: closing the server ends them
    app.addHook('preClose', async () => {
      clearInterval(heartbeat);
      for (const stream of streams) stream.end();
    });

    app.get(
      '/availability/stream',
      routeOptions(
        'storefront',
        'public',
        'Server-Sent Events: an `availability` event per SKU whenever its status, count or label changes',
        {
          operationId: 'streamAvailability',
          description:
            'The current state of each SKU comes first; a reconnect with Last-Event-ID gets only what it missed.',
          querystring: AvailabilityStreamInput,
          answer: {
            type: 'text/event-stream',
            description: 'An open stream: `availability` events whose data is an item as GET /v1/availability gives',
          },
          refusals: ['unknown_sku', 'too_many_requests', 'rate_limited', 'at_capacity'],
        },
      ),
      async (req, reply) => {
        const { sku } = parse(AvailabilityStreamInput, skusOf(req.query));
        const header = req.headers['last-event-id'];
        // refused (429 or 503) before anything is read for it; freed when its socket closes
        const free = slots.take(req.ip);
        // events that come while the first ones are read wait here until the stream is open
        const sink: { stream?: Stream; early: AvailabilityEvent[] } = { early: [] };
        let watching: Awaited<ReturnType<AvailabilityFeed['watch']>>;
        try {
          // checked (and refused with a problem document) before the stream opens
          watching = await feed.watch(
            sku,
            (event) => {
              if (sink.stream) sink.stream.send(event);
              else sink.early.push(event);
            },
            Array.isArray(header) ? header[0] : header,
          );
        } catch (error) {
          free();
          throw error;
        }
        reply.hijack();
        const res = reply.raw;
        // a client that left while the first states were read frees its slot now, not never
        if (res.destroyed) {
          watching.stop();
          free();
          return;
        }
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'access-control-allow-origin': '*',
        });
        const stream = new Stream(res);
        streams.add(stream);
        options.onOpenStreams?.(streams.size);
        res.write('retry: 2000\n\n');
        for (const event of [...watching.first, ...sink.early]) stream.send(event);
        sink.stream = stream;
        res.on('close', () => {
          watching.stop();
          streams.delete(stream);
          options.onOpenStreams?.(streams.size);
          free();
        });
      },
    );
  };
}

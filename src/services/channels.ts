import { DELIVERY_STATUSES } from '../domain/delivery.js';
import type { ChannelKind, DeliveryStatus, DeliveryTry } from '../domain/delivery.js';
import { open, seal } from '../domain/secret-box.js';
import { CHANNEL_SECRET_FIELDS, MASK, redactUrl } from '../domain/secrets.js';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../domain/errors.js';
import { insertChannel, listChannels, removeChannel } from '../store/channels.js';
import type { ChannelRow } from '../store/channels.js';
import { countUnsent, listDeliveries, reviveDelivery } from '../store/deliveries.js';
import type { Page } from './paging.js';
import { runIdempotently } from './idempotency.js';
import type { CallOptions, ServiceContext } from './context.js';
import { idCursor, pageLimit, pageOf } from './paging.js';
import { WebhookInput, numericId, parse, parseChannelInput } from './schemas.js';
import type { ChannelInput } from './schemas.js';

/** A channel as shown: where it sends and what, never its secrets. */
export interface Channel {
  id: number;
  kind: ChannelKind;
  name: string | null;
  events: string[];
  /** webhook/slack: the URL; telegram: the chat; email: the recipients */
  target: string;
  /** a webhook that takes its events in batches: one POST of {"events": [...]} per delivery */
  batch: boolean;
  created_at: string;
}

/** A delivery as shown: one event to one channel, its status and every try. */
export interface Delivery {
  id: number;
  channel_id: number;
  kind: ChannelKind;
  /** the outbox event's id: what receivers de-duplicate by */
  event_id: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  log: DeliveryTry[];
}

/** Which deliveries to list: by status and channel, a page at a time. */
export interface DeliveryQuery {
  status?: string | undefined;
  channel?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** A URL may be the secret itself (Slack) or hold one (a password, a token in the query): shown redacted. */
const targetOf = (channel: ChannelRow, secretKey: Buffer | undefined): string => {
  const config = channel.config;
  switch (channel.kind) {
    case 'webhook':
    case 'slack':
      try {
        return redactUrl(open(secretKey, channel.secrets)['url'] ?? '');
      } catch {
        return MASK; // sealed with a key this process does not have
      }
    case 'telegram':
      return `chat ${config['chat_id'] ?? ''}`;
    case 'email':
      return config['to'] ?? '';
  }
};

const toChannel = (channel: ChannelRow, secretKey: Buffer | undefined): Channel => ({
  id: channel.id,
  kind: channel.kind,
  name: channel.name,
  events: channel.events,
  target: targetOf(channel, secretKey),
  batch: channel.batch,
  created_at: new Date(channel.created_at).toISOString(),
});

/** Where alerts go (webhooks, Slack, Telegram, email) and the log of getting them there. */
export class ChannelService {
  /** @param secretKey seals channel secrets at rest (STOCKROOM_SECRET_KEY); without it they are stored as given */
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secretKey?: Buffer,
  ) {}

  /** POST /v1/webhooks: a webhook channel. */
  async addWebhook(input: WebhookInput, options: CallOptions = {}): Promise<Channel> {
    const webhook = parse(WebhookInput, input);
    return this.add({ kind: 'webhook', ...webhook }, options);
  }

  /** A channel of any kind, its settings checked against that kind; its secrets are kept apart (sealed with a key). */
  async add(input: ChannelInput, options: CallOptions = {}): Promise<Channel> {
    const channel = parseChannelInput(input);
    const { kind: _, events, name, ...settings } = channel;
    // a webhook's one setting that is not text: kept in its own column, not among what it sends with
    const batch = 'batch' in settings && settings.batch;
    if ('batch' in settings) delete settings.batch;
    const config: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const [field, value] of Object.entries(settings as Record<string, string>)) {
      if ((CHANNEL_SECRET_FIELDS as readonly string[]).includes(field)) secrets[field] = value;
      else config[field] = value;
    }
    return runIdempotently(this.ctx, 'channel.add', options, channel, async (tx) =>
      toChannel(
        await insertChannel(tx, {
          kind: channel.kind,
          name: name ?? null,
          events,
          config,
          secrets: this.secretKey ? seal(this.secretKey, secrets) : secrets,
          batch,
        }),
        this.secretKey,
      ),
    );
  }

  /** Active channels, oldest first, optionally of one kind, on one page. */
  async list(kind?: ChannelKind): Promise<Page<Channel>> {
    return {
      items: (await listChannels(this.ctx.db, kind)).map((channel) => toChannel(channel, this.secretKey)),
      next_cursor: null,
    };
  }

  /** Stops a channel and cancels what it has not got through yet; its deliveries and their tries stay in the log. */
  async remove(id: string | number, kind?: ChannelKind): Promise<void> {
    const what = kind === 'webhook' ? 'webhook' : 'channel';
    const channelId = numericId(id, what);
    if (!(await this.ctx.db.transaction((tx) => removeChannel(tx, channelId, kind)))) {
      throw new NotFoundError(what, String(id));
    }
  }

  /** The delivery log, newest first: each delivery with every try. */
  async deliveries(query: DeliveryQuery = {}): Promise<Page<Delivery>> {
    const limit = pageLimit(query.limit);
    const status = query.status;
    if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
      throw ValidationError.field('/status', `must be one of: ${DELIVERY_STATUSES.join(', ')}`);
    }
    const before = idCursor(query.cursor);
    const rows = await listDeliveries(this.ctx.db, {
      status: status as DeliveryStatus | undefined,
      channelId: query.channel === undefined ? undefined : numericId(query.channel, 'channel'),
      before,
      limit: limit + 1,
    });
    return pageOf(
      rows,
      limit,
      ({ outbox_id, ...delivery }): Delivery => ({
        ...delivery,
        event_id: String(outbox_id),
        next_attempt_at: delivery.status === 'pending' ? new Date(delivery.next_attempt_at).toISOString() : null,
        created_at: new Date(delivery.created_at).toISOString(),
        delivered_at: delivery.delivered_at === null ? null : new Date(delivery.delivered_at).toISOString(),
      }),
      (delivery) => delivery.id,
    );
  }

  /** Deliveries not sent yet and dead letters, over every channel (for /metrics). */
  unsent(): Promise<{ pending: number; dead: number }> {
    return countUnsent(this.ctx.db);
  }

  /** Sends a dead letter again, with a fresh budget of tries. */
  async retry(id: string | number): Promise<void> {
    const deliveryId = numericId(id, 'delivery');
    if (await reviveDelivery(this.ctx.db, deliveryId)) return;
    const [row] = await listDeliveries(this.ctx.db, { before: deliveryId + 1, limit: 1 });
    if (row?.id !== deliveryId) throw new NotFoundError('delivery', String(id));
    throw new InvalidTransitionError(row.status, 'retry', 'delivery');
  }
}

import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { CHANNEL_KINDS, DELIVERY_STATUSES } from '../../domain/delivery.js';
import { ALERT_TYPES } from '../../domain/alerts.js';
import {
  ChannelInputs,
  NumericId,
  Sku,
  WarehouseCode,
  WebhookInput,
  parse,
  parseChannelInput,
} from '../../services/schemas.js';
import type { ChannelInput as ChannelInputOf } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import { listQuery, listValues } from './query.js';

const ADMIN = ['admin'] as const;
const Id = Type.Object({ id: NumericId });
const AlertQuery = listQuery({
  type: Type.Optional(Type.Enum(ALERT_TYPES)),
  sku: Type.Optional(Sku),
  warehouse: Type.Optional(WarehouseCode),
});
const DeliveryQuery = listQuery({
  status: Type.Optional(Type.Enum(DELIVERY_STATUSES)),
  channel: Type.Optional(NumericId),
});
const ChannelInput = Type.Union(Object.values(ChannelInputs));

const route = routesTagged('alerts');
/** The union of the kinds has no static type of its own: the example is checked as what channels.add takes. */
const SLACK_EXAMPLE: ChannelInputOf = {
  kind: 'slack',
  url: 'https://hooks.slack.com/services/T000/B000/XXXX',
  events: ['low_stock', 'out_of_stock'],
};

/** Alerts, and the channels they are delivered to with the log of each delivery. */
export function alertRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/alerts',
      route(ADMIN, `Threshold alerts, newest first (type: ${ALERT_TYPES.join(', ')})`, {
        operationId: 'listAlerts',
        querystring: AlertQuery,
        answer: { schema: Answers.AlertPage },
        refusals: ['unknown_sku', 'not_found'],
      }),
      async (req) => stockroom.alerts.list(listValues(AlertQuery, req.query)),
    );

    app.post(
      '/webhooks',
      route(ADMIN, 'Send events to a URL, signed with the secret (X-Stockroom-Signature)', {
        operationId: 'createWebhook',
        body: WebhookInput,
        example: {
          url: 'https://shop.example.net/hooks/stockroom',
          events: ['stock.*', 'reservation.*'],
          secret: 'a-long-random-secret-of-yours',
        },
        answer: { status: 201, schema: Answers.Channel, description: 'The webhook (never its secret)' },
        idempotent: true,
      }),
      async (req, reply) =>
        reply.status(201).send(await stockroom.channels.addWebhook(parse(WebhookInput, req.body), callOptions(req))),
    );
    app.get(
      '/webhooks',
      route(ADMIN, 'Webhooks (never their secrets)', {
        operationId: 'listWebhooks',
        answer: { schema: Answers.ChannelPage },
      }),
      async () => stockroom.channels.list('webhook'),
    );
    app.delete(
      '/webhooks/:id',
      route(ADMIN, 'Stop a webhook; its delivery log stays', {
        operationId: 'deleteWebhook',
        params: Id,
        answer: { description: 'Stopped' },
        refusals: ['not_found'],
      }),
      async (req, reply) => {
        await stockroom.channels.remove((req.params as { id: string }).id, 'webhook');
        return reply.status(204).send();
      },
    );

    app.post(
      '/channels',
      route(ADMIN, `Send events to a channel: ${CHANNEL_KINDS.join(', ')}`, {
        operationId: 'createChannel',
        body: ChannelInput,
        example: SLACK_EXAMPLE as never,
        answer: { status: 201, schema: Answers.Channel, description: 'The channel (never its secrets)' },
        idempotent: true,
      }),
      async (req, reply) =>
        reply.status(201).send(await stockroom.channels.add(parseChannelInput(req.body), callOptions(req))),
    );
    app.get(
      '/channels',
      route(ADMIN, 'Every channel (never its secrets)', {
        operationId: 'listChannels',
        answer: { schema: Answers.ChannelPage },
      }),
      async () => stockroom.channels.list(),
    );
    app.delete(
      '/channels/:id',
      route(ADMIN, 'Stop a channel; its delivery log stays', {
        operationId: 'deleteChannel',
        params: Id,
        answer: { description: 'Stopped' },
        refusals: ['not_found'],
      }),
      async (req, reply) => {
        await stockroom.channels.remove((req.params as { id: string }).id);
        return reply.status(204).send();
      },
    );

    app.get(
      '/deliveries',
      route(ADMIN, `The delivery log, newest first, with every try (status: ${DELIVERY_STATUSES.join(', ')})`, {
        operationId: 'listDeliveries',
        querystring: DeliveryQuery,
        answer: { schema: Answers.DeliveryPage },
        refusals: ['not_found'],
      }),
      async (req) => stockroom.channels.deliveries(listValues(DeliveryQuery, req.query)),
    );
    app.post(
      '/deliveries/:id/retry',
      route(ADMIN, 'Send a dead letter again, with a fresh budget of tries', {
        operationId: 'retryDelivery',
        params: Id,
        answer: { status: 202, schema: Answers.RetryResult, description: 'Queued to be sent again' },
        refusals: ['not_found', 'invalid_transition'],
      }),
      async (req, reply) => {
        await stockroom.channels.retry((req.params as { id: string }).id);
        return reply.status(202).send({ id: Number((req.params as { id: string }).id), status: 'pending' });
      },
    );
  };
}

import { useState } from 'preact/hooks';
import { api, get, query } from '../api.js';
import type { Page } from '../api.js';
import {
  Badge,
  ConfirmButton,
  DataTable,
  Link,
  ProblemView,
  Title,
  field,
  useAction,
  useLoad,
  when,
  TableHead,
  useCan,
} from '../ui.js';

interface Alert {
  id: number;
  type: string;
  sku: string;
  warehouse: string | null;
  available: number;
  threshold: number;
  created_at: string;
}

interface Delivery {
  id: number;
  channel_id: number;
  kind: string;
  event: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
}

interface Channel {
  id: number;
  kind: string;
  name: string | null;
  events: string[];
  target: string;
  created_at: string;
}

const EVENTS = ['low_stock', 'out_of_stock', 'back_in_stock', 'stock.*', 'reservation.*'] as const;

/** The alert feed, the delivery log with its dead letters (retry), and the channels events go to. */
export function AlertsPage() {
  const can = useCan();
  // every part of it is the admin's (the feed, the log, the channels): a page opened by its address with another
  // key says so, rather than offering forms the server refuses
  if (!can('admin'))
    return (
      <>
        <Title>Alerts and deliveries</Title>
        <p class="muted" role="status">
          Alerts, deliveries and channels need a key with scope admin.
        </p>
      </>
    );
  return <AlertsForAdmin />;
}

function AlertsForAdmin() {
  const [deliveryStatus, setDeliveryStatus] = useState('dead');
  const alerts = useLoad(() => get<Page<Alert>>('/v1/alerts?limit=50'), []);
  const deliveries = useLoad(
    () => get<Page<Delivery>>(`/v1/deliveries${query({ status: deliveryStatus, limit: 50 })}`),
    [deliveryStatus],
  );
  const channels = useLoad(() => get<Page<Channel>>('/v1/channels'), []);
  const action = useAction();

  return (
    <>
      <Title>Alerts and deliveries</Title>
      {action.feedback}
      <h2>Alerts</h2>
      <ProblemView problem={alerts.problem} />
      <DataTable caption="Alerts" id="alerts">
        <TableHead columns={['When', 'Type', 'SKU', 'Warehouse', ['Available', 'num'], ['Threshold', 'num']]} />
        <tbody>
          {alerts.value?.items.map((alert) => (
            <tr key={alert.id}>
              <td>{when(alert.created_at)}</td>
              <td>
                <Badge value={alert.type} />
              </td>
              <td>
                <Link to={`/variants/${encodeURIComponent(alert.sku)}`}>{alert.sku}</Link>
              </td>
              <td>{alert.warehouse ?? 'all'}</td>
              <td class="num">{alert.available}</td>
              <td class="num">{alert.threshold}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <h2>Deliveries</h2>
      <label class="inline">
        Status
        <select
          value={deliveryStatus}
          onChange={(event) => {
            setDeliveryStatus(event.currentTarget.value);
          }}
        >
          <option value="">any</option>
          <option value="dead">dead letters</option>
          <option value="pending">pending</option>
          <option value="delivered">delivered</option>
          <option value="cancelled">cancelled</option>
        </select>
      </label>
      <ProblemView problem={deliveries.problem} />
      <DataTable caption="Deliveries" id="deliveries">
        <TableHead columns={['#', 'Event', 'Channel', 'Status', ['Tries', 'num'], 'Last error', 'Actions']} />
        <tbody>
          {deliveries.value?.items.map((delivery) => (
            <tr key={delivery.id} data-delivery={delivery.id}>
              <td>{delivery.id}</td>
              <td>{delivery.event}</td>
              <td>
                {delivery.kind} #{delivery.channel_id}
              </td>
              <td>
                <Badge value={delivery.status} />
              </td>
              <td class="num">{delivery.attempts}</td>
              <td style={{ whiteSpace: 'normal' }}>{delivery.last_error ?? ''}</td>
              <td>
                {delivery.status === 'dead' && (
                  <ConfirmButton
                    label="Retry"
                    question="Send it again?"
                    onConfirm={() =>
                      action
                        .run(async () => {
                          await api('POST', `/v1/deliveries/${String(delivery.id)}/retry`, { idempotent: true });
                          return `Delivery ${String(delivery.id)} queued again.`;
                        })
                        .then(() => deliveries.reload())
                    }
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <h2>Channels</h2>
      <ProblemView problem={channels.problem} />
      <DataTable caption="Channels" id="channels">
        <TableHead columns={['#', 'Kind', 'Name', 'Target', 'Events', 'Actions']} />
        <tbody>
          {channels.value?.items.map((channel) => (
            <tr key={channel.id}>
              <td>{channel.id}</td>
              <td>{channel.kind}</td>
              <td>{channel.name ?? ''}</td>
              <td>{channel.target}</td>
              <td>{channel.events.join(', ')}</td>
              <td>
                <ConfirmButton
                  label="Delete"
                  question="Stop sending to it?"
                  danger
                  onConfirm={() =>
                    action
                      .run(async () => {
                        await api('DELETE', `/v1/channels/${String(channel.id)}`);
                        return `Channel ${String(channel.id)} stopped.`;
                      })
                      .then(() => channels.reload())
                  }
                />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      <NewChannel onCreated={() => void channels.reload()} />
    </>
  );
}

/** A channel of any kind the API takes: each kind asks for its own settings; secrets are shown nowhere after. */
function NewChannel({ onCreated }: { onCreated: () => void }) {
  const action = useAction();
  const [kind, setKind] = useState('webhook');
  const [events, setEvents] = useState<string[]>(['low_stock']);
  return (
    <form
      class="card"
      style={{ marginTop: '14px' }}
      aria-labelledby="new-channel"
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const name = field(form, 'name');
        const optional = (fieldName: string) => {
          const value = field(form, fieldName);
          return value ? { [fieldName]: value } : {};
        };
        const settings =
          kind === 'webhook'
            ? { url: field(form, 'url'), secret: field(form, 'secret') }
            : kind === 'slack'
              ? { url: field(form, 'url') }
              : kind === 'telegram'
                ? { bot_token: field(form, 'bot_token'), chat_id: field(form, 'chat_id'), ...optional('api_url') }
                : { smtp_url: field(form, 'smtp_url'), from: field(form, 'from'), to: field(form, 'to') };
        const body = { kind, events, ...(name ? { name } : {}), ...settings };
        void action
          .run(async () => {
            await api('POST', '/v1/channels', { body, idempotent: true });
            return 'Channel added.';
          })
          .then(onCreated);
      }}
    >
      <h2 id="new-channel" style={{ marginTop: 0 }}>
        Add a channel
      </h2>
      <div class="row">
        <label>
          Kind
          <select
            name="kind"
            value={kind}
            onChange={(event) => {
              setKind(event.currentTarget.value);
            }}
          >
            <option value="webhook">webhook</option>
            <option value="slack">slack</option>
            <option value="telegram">telegram</option>
            <option value="email">email</option>
          </select>
        </label>
        <label>
          Name
          <input name="name" />
        </label>
        {(kind === 'webhook' || kind === 'slack') && (
          <label>
            URL
            <input name="url" type="url" required />
          </label>
        )}
        {kind === 'telegram' && (
          <>
            <label>
              Bot token (shown nowhere after this)
              <input name="bot_token" type="password" autocomplete="off" required placeholder="123456:ABC-def" />
            </label>
            <label>
              Chat
              <input name="chat_id" required placeholder="-1001234567890 or @channelname" />
            </label>
            <label>
              Bot API URL (optional)
              <input name="api_url" type="url" placeholder="https://api.telegram.org" />
            </label>
          </>
        )}
        {kind === 'email' && (
          <>
            <label>
              SMTP URL (its password is shown nowhere after this)
              <input
                name="smtp_url"
                type="password"
                autocomplete="off"
                required
                placeholder="smtps://user:pass@mail.example.com:465"
              />
            </label>
            <label>
              From
              <input name="from" required placeholder="stock@example.com" />
            </label>
            <label>
              To (comma-separated)
              <input name="to" required placeholder="buyer@example.com, ops@example.com" />
            </label>
          </>
        )}
        {kind === 'webhook' && (
          <label>
            Secret (16+ characters, shown nowhere after this)
            <input name="secret" type="password" autocomplete="off" required minLength={16} />
          </label>
        )}
      </div>
      <fieldset style={{ border: 0, padding: 0, margin: '8px 0 0' }}>
        <legend class="muted">Events</legend>
        <div class="row">
          {EVENTS.map((name) => (
            <label class="inline" key={name}>
              <input
                type="checkbox"
                name={`event-${name}`}
                checked={events.includes(name)}
                onChange={(event) => {
                  const on = event.currentTarget.checked;
                  setEvents(on ? [...events, name] : events.filter((other) => other !== name));
                }}
              />
              {name}
            </label>
          ))}
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Add channel
        </button>
      </div>
      {action.feedback}
    </form>
  );
}

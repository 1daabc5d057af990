import { useEffect, useState } from 'preact/hooks';
import { api, get, query } from '../api.js';
import type { Page, Reservation } from '../api.js';
import { navigate } from '../router.js';
import {
  Badge,
  ConfirmButton,
  Countdown,
  DataTable,
  Link,
  ProblemView,
  Title,
  useAction,
  useLoad,
  when,
  TableHead,
} from '../ui.js';

const STATUSES = ['pending', 'committed', 'partially_fulfilled', 'fulfilled', 'released', 'expired'] as const;

/** Reservations by status and order, with their actions and the countdown of a pending one. */
export function ReservationsPage({ query: params }: { query: URLSearchParams }) {
  const status = params.get('status') ?? '';
  const orderRef = params.get('order_ref') ?? '';
  const cursor = params.get('cursor') ?? '';
  const list = useLoad(
    () => get<Page<Reservation>>(`/v1/reservations${query({ status, order_ref: orderRef, cursor, limit: 50 })}`),
    [status, orderRef, cursor],
  );
  const action = useAction();
  const [typed, setTyped] = useState(orderRef);
  useEffect(() => {
    setTyped(orderRef);
  }, [orderRef]);
  const act = (reservation: Reservation, verb: 'commit' | 'cancel' | 'fulfil') =>
    action
      .run(async () => {
        await api('POST', `/v1/reservations/${reservation.id}/${verb}`, { idempotent: true });
        return `Reservation ${reservation.order_ref}: ${verb} done.`;
      })
      .then(() => list.reload());

  return (
    <>
      <Title>Reservations</Title>
      <form
        class="card"
        aria-label="Filters"
        onSubmit={(event) => {
          event.preventDefault();
          navigate(`/reservations${query({ status, order_ref: typed })}`, { replace: true });
        }}
      >
        <div class="row">
          <label>
            Status
            <select
              name="status"
              value={status}
              onChange={(event) => {
                navigate(`/reservations${query({ status: event.currentTarget.value, order_ref: orderRef })}`, {
                  replace: true,
                });
              }}
            >
              <option value="">Any status</option>
              {STATUSES.map((name) => (
                <option key={name} value={name}>
                  {name.replace('_', ' ')}
                </option>
              ))}
            </select>
          </label>
          <label>
            Order
            <input
              name="order_ref"
              value={typed}
              onInput={(event) => {
                setTyped(event.currentTarget.value);
              }}
            />
          </label>
          <button type="submit" class="primary">
            Search
          </button>
        </div>
      </form>
      {action.feedback}
      <ProblemView problem={list.problem} />
      <p class="muted" role="status">
        {list.value ? `${String(list.value.total ?? list.value.items.length)} reservations match.` : 'Loading…'}
      </p>
      <DataTable caption="Reservations" id="reservations">
        <TableHead columns={['Order', 'Status', 'Lines', 'Expires', 'Created', 'Actions']} />
        <tbody>
          {list.value?.items.map((reservation) => (
            <tr key={reservation.id} data-reservation={reservation.id}>
              <td>{reservation.order_ref}</td>
              <td>
                <Badge value={reservation.status} />
              </td>
              <td>
                {reservation.lines.map((line) => (
                  <div key={`${line.sku}@${line.warehouse}`}>
                    <Link to={`/variants/${encodeURIComponent(line.sku)}`}>{line.sku}</Link> × {line.qty} @{' '}
                    {line.warehouse}
                  </div>
                ))}
              </td>
              <td>
                {reservation.status === 'pending' && reservation.expires_at ? (
                  <Countdown until={reservation.expires_at} />
                ) : (
                  '—'
                )}
              </td>
              <td>{when(reservation.created_at)}</td>
              <td>
                <div class="actions" style={{ marginTop: 0 }}>
                  {reservation.status === 'pending' && (
                    <ConfirmButton
                      label="Commit"
                      question="Payment received: keep it?"
                      onConfirm={() => act(reservation, 'commit')}
                    />
                  )}
                  {(reservation.status === 'committed' || reservation.status === 'partially_fulfilled') && (
                    <ConfirmButton
                      label="Fulfil"
                      question="Ship every line?"
                      onConfirm={() => act(reservation, 'fulfil')}
                    />
                  )}
                  {(reservation.status === 'pending' || reservation.status === 'committed') && (
                    <ConfirmButton
                      label="Cancel"
                      question="Release what it holds?"
                      danger
                      onConfirm={() => act(reservation, 'cancel')}
                    />
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {list.value?.next_cursor && (
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              navigate(`/reservations${query({ status, order_ref: orderRef, cursor: list.value?.next_cursor })}`);
            }}
          >
            Next page
          </button>
        </div>
      )}
    </>
  );
}

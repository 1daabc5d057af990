import { useEffect, useRef, useState } from 'preact/hooks';
import { api, get, query } from '../api.js';
import type { Page, Reservation, Warehouse } from '../api.js';
import { navigate } from '../router.js';
import {
  Badge,
  ConfirmButton,
  Countdown,
  DataTable,
  Link,
  ProblemView,
  Title,
  field,
  useAction,
  useLoad,
  when,
  TableHead,
} from '../ui.js';
import { matched } from '../counts.js';

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
  const warehouses = useLoad(() => get<{ items: Warehouse[] }>('/v1/warehouses'), []);
  const [changing, setChanging] = useState<string | null>(null);
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
  // a refused search shows its refusal alone: no rows, count or message of the search before it
  const found = list.problem ? undefined : list.value;

  return (
    <>
      <Title>Reservations</Title>
      <form
        class="card"
        aria-label="Filters"
        onSubmit={(event) => {
          event.preventDefault();
          action.clear();
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
                action.clear();
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
        {found
          ? `${matched(found, found.items.length)} reservations match.`
          : list.problem
            ? 'No reservations shown: the search was refused.'
            : 'Loading…'}
      </p>
      <DataTable caption="Reservations" id="reservations" stacked>
        <TableHead columns={['Order', 'Status', 'Lines', 'Expires', 'Created', 'Actions']} />
        <tbody>
          {found?.items.map((reservation) => [
            <tr key={reservation.id} data-reservation={reservation.id}>
              <td data-label="Order">{reservation.order_ref}</td>
              <td data-label="Status">
                <Badge value={reservation.status} />
              </td>
              <td data-label="Lines">
                {reservation.lines.map((line) => (
                  <div key={`${line.sku}@${line.warehouse}`}>
                    <Link to={`/variants/${encodeURIComponent(line.sku)}`}>{line.sku}</Link> × {line.qty} @{' '}
                    {line.warehouse}
                  </div>
                ))}
              </td>
              <td data-label="Expires">
                {reservation.status === 'pending' && reservation.expires_at ? (
                  <Countdown until={reservation.expires_at} />
                ) : (
                  '—'
                )}
              </td>
              <td data-label="Created" class="hide-narrow">
                {when(reservation.created_at)}
              </td>
              <td data-label="Actions">
                <div class="actions" style={{ marginTop: 0 }}>
                  {reservation.status === 'pending' && (
                    <ConfirmButton
                      label="Commit"
                      question="Payment received: keep it?"
                      onConfirm={() => act(reservation, 'commit')}
                    />
                  )}
                  {/* the API fulfils a pending one directly too: paid and shipped at once */}
                  {['pending', 'committed', 'partially_fulfilled'].includes(reservation.status) && (
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
                  {changesOf(reservation.status).length > 0 && (
                    <button
                      type="button"
                      aria-expanded={changing === reservation.id}
                      aria-controls={`change-${reservation.id}`}
                      onClick={() => {
                        setChanging(changing === reservation.id ? null : reservation.id);
                      }}
                    >
                      Change…
                    </button>
                  )}
                </div>
              </td>
            </tr>,
            changing === reservation.id && (
              <tr key={`${reservation.id}-change`} id={`change-${reservation.id}`}>
                <td colSpan={6}>
                  <LineChange
                    reservation={reservation}
                    warehouses={warehouses.value?.items.map((warehouse) => warehouse.code) ?? []}
                    onDone={() => void list.reload()}
                  />
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </DataTable>
      {found?.next_cursor && (
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              navigate(`/reservations${query({ status, order_ref: orderRef, cursor: found.next_cursor })}`);
            }}
          >
            Next page
          </button>
        </div>
      )}
    </>
  );
}

/** What can be done to one line of a reservation, by the reservation's status (docs/api.md, Reservations). */
const CHANGES = {
  amend: { label: 'Change the quantity', statuses: ['pending', 'committed', 'partially_fulfilled'] },
  cancel: { label: 'Cancel some units', statuses: ['pending', 'committed', 'partially_fulfilled'] },
  move: { label: 'Move to another warehouse', statuses: ['pending', 'committed', 'partially_fulfilled'] },
  unfulfil: { label: 'Take back shipped units (unfulfil)', statuses: ['partially_fulfilled', 'fulfilled'] },
} as const;
type Change = keyof typeof CHANGES;

const changesOf = (status: string): Change[] =>
  (Object.keys(CHANGES) as Change[]).filter((change) =>
    (CHANGES[change].statuses as readonly string[]).includes(status),
  );

/** A call the form will make once confirmed, and what it says it will do. */
interface PlannedCall {
  method: 'PATCH' | 'POST';
  path: string;
  body: unknown;
  says: string;
}

/**
 * Changes one line of a reservation: its quantity (amend), some of its units (partial cancel), its warehouse
 * (move), or shipped units taken back (unfulfil). Each names what will change and waits for a confirmation; the
 * server's refusal is shown as it is, and nothing changed.
 */
function LineChange(props: { reservation: Reservation; warehouses: string[]; onDone: () => void }) {
  const { reservation } = props;
  const choices = changesOf(reservation.status);
  const [change, setChange] = useState<Change>(choices[0] ?? 'amend');
  const [planned, setPlanned] = useState<PlannedCall | null>(null);
  const action = useAction();
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (planned) confirm.current?.focus();
  }, [planned]);
  const lines = reservation.lines;
  const formId = `change-form-${reservation.id}`;
  return (
    <div class="card" style={{ margin: 0 }}>
      <form
        aria-label={`Change reservation ${reservation.order_ref}`}
        id={formId}
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const line = lines[Number(field(form, 'line'))];
          if (!line) return;
          const qtyText = field(form, 'qty');
          const qty = Number(qtyText);
          const at = { sku: line.sku, warehouse: line.warehouse };
          const path = `/v1/reservations/${reservation.id}`;
          const where = `${line.sku} at ${line.warehouse}`;
          if (change === 'amend')
            setPlanned({
              method: 'PATCH',
              path,
              body: { lines: [{ ...at, qty }] },
              says: `${where}: ${String(line.qty)} → ${qtyText} units (shipped included).`,
            });
          else if (change === 'cancel')
            setPlanned({
              method: 'POST',
              path: `${path}/cancel`,
              body: { lines: [{ ...at, qty }] },
              says: `${where}: release ${qtyText} of the units it holds.`,
            });
          else if (change === 'move') {
            const to = field(form, 'to');
            setPlanned({
              method: 'POST',
              path: `${path}/move`,
              body: { sku: line.sku, from: line.warehouse, to, ...(qtyText === '' ? {} : { qty }) },
              says: `${where}: move ${qtyText === '' ? 'every held unit' : `${qtyText} held units`} to ${to}.`,
            });
          } else
            setPlanned({
              method: 'POST',
              path: `${path}/unfulfil`,
              body: { lines: [{ ...at, qty }] },
              says: `${where}: bring ${qtyText} shipped units back on hand, held for the order again.`,
            });
        }}
      >
        <div class="row">
          <label>
            Change
            <select
              name="change"
              value={change}
              onChange={(event) => {
                setChange(event.currentTarget.value as Change);
                setPlanned(null);
              }}
            >
              {choices.map((choice) => (
                <option key={choice} value={choice}>
                  {CHANGES[choice].label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Line
            <select name="line">
              {lines.map((line, index) => (
                <option key={`${line.sku}@${line.warehouse}`} value={index}>
                  {line.sku} at {line.warehouse} ({line.qty} reserved, {line.fulfilled} shipped, {line.released}{' '}
                  released)
                </option>
              ))}
            </select>
          </label>
          <label>
            {change === 'amend'
              ? 'New quantity'
              : change === 'cancel'
                ? 'Units to cancel'
                : change === 'move'
                  ? 'Units to move (empty: all)'
                  : 'Units to take back'}
            <input name="qty" type="number" inputMode="numeric" required={change !== 'move'} />
          </label>
          {change === 'move' && (
            <label>
              To warehouse
              <select name="to" required>
                {props.warehouses.map((code) => (
                  <option key={code} value={code}>
                    {code}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Review change
          </button>
        </div>
      </form>
      {planned && (
        <div class="confirm" role="alertdialog" aria-label="Confirm the change" aria-describedby={`${formId}-planned`}>
          <p id={`${formId}-planned`} style={{ margin: '0 0 6px' }}>
            {planned.says}
          </p>
          <button
            type="button"
            class="primary"
            ref={confirm}
            disabled={action.busy}
            onClick={() => {
              const call = planned;
              setPlanned(null);
              void action
                .run(async () => {
                  await api(call.method, call.path, { body: call.body, idempotent: true });
                  return `Done: ${call.says}`;
                })
                .then(props.onDone);
            }}
          >
            Confirm
          </button>{' '}
          <button
            type="button"
            onClick={() => {
              setPlanned(null);
            }}
          >
            Back
          </button>
        </div>
      )}
      {action.feedback}
    </div>
  );
}

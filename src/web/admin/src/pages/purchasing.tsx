import { useState } from 'preact/hooks';
import { api, get } from '../api.js';
import type { Page, PurchaseOrder, StockOfSku, Supplier, Warehouse } from '../api.js';
import {
  Badge,
  ConfirmButton,
  DataTable,
  Link,
  ProblemView,
  Title,
  field,
  useAction,
  useCan,
  useLoad,
  TableHead,
  CodeSelect,
  FORMATS,
} from '../ui.js';

interface Suggestion {
  sku: string;
  supplier: string | null;
  position: number;
  reorder_point: number | null;
  suggested_qty: number;
  due: boolean;
  open_purchase_order: number | null;
}

interface Received {
  order: PurchaseOrder;
  put_away: { sku: string; qty: number; bin: string | null; suggested: boolean }[];
}

/** Replenishment suggestions, purchase orders through their life (receive into bins), suppliers. */
export function PurchasingPage() {
  const can = useCan();
  const admin = can('admin');
  const orders = useLoad(() => get<Page<PurchaseOrder>>('/v1/purchase-orders?limit=50'), []);
  const suppliers = useLoad(() => get<Page<Supplier>>('/v1/suppliers'), []);
  const warehouses = useLoad(() => get<{ items: Warehouse[] }>('/v1/warehouses'), []);
  const suggestions = useLoad(
    () =>
      admin
        ? get<Page<Suggestion>>('/v1/replenishment/suggestions?limit=50')
        : Promise.resolve({ items: [], next_cursor: null }),
    [admin],
  );
  const action = useAction();
  const refresh = () => {
    void orders.reload();
    void suggestions.reload();
  };
  const act = (order: PurchaseOrder, verb: string, body?: unknown) =>
    action
      .run(async () => {
        await api('POST', `/v1/purchase-orders/${String(order.id)}/${verb}`, {
          idempotent: true,
          ...(body === undefined ? {} : { body }),
        });
        return `Purchase order ${String(order.id)}: ${verb} done.`;
      })
      .then(refresh);

  return (
    <>
      <Title>Purchasing</Title>
      {action.feedback}
      {admin && (
        <>
          <h2>Suggestions</h2>
          <ProblemView problem={suggestions.problem} />
          <DataTable caption="Replenishment suggestions" id="suggestions">
            <TableHead
              columns={[
                'SKU',
                'Supplier',
                ['Position', 'num'],
                ['Reorder point', 'num'],
                ['Suggested', 'num'],
                'Open PO',
              ]}
            />
            <tbody>
              {suggestions.value?.items.map((suggestion) => (
                <tr key={suggestion.sku}>
                  <td>
                    <Link to={`/variants/${encodeURIComponent(suggestion.sku)}`}>{suggestion.sku}</Link>
                  </td>
                  <td>{suggestion.supplier ?? '—'}</td>
                  <td class="num">{suggestion.position}</td>
                  <td class="num">{suggestion.reorder_point ?? '—'}</td>
                  <td class="num">{suggestion.suggested_qty}</td>
                  <td>{suggestion.open_purchase_order ?? '—'}</td>
                </tr>
              ))}
              {suggestions.value?.items.length === 0 && (
                <tr>
                  <td colSpan={6}>Nothing is at or below its reorder point.</td>
                </tr>
              )}
            </tbody>
          </DataTable>
          <div class="actions">
            <ConfirmButton
              label="Run replenishment"
              question="Draft purchase orders for everything due?"
              onConfirm={() =>
                action
                  .run(async () => {
                    const run = await api<{ orders: unknown[] }>('POST', '/v1/replenishment/run', { idempotent: true });
                    return `Replenishment drafted ${String(run.orders.length)} purchase orders.`;
                  })
                  .then(refresh)
              }
            />
          </div>
        </>
      )}

      <h2>Purchase orders</h2>
      <ProblemView problem={orders.problem} />
      <DataTable caption="Purchase orders" id="purchase-orders">
        <TableHead
          columns={['#', 'Supplier', 'Warehouse', 'Status', 'Lines (received / ordered)', 'Expected', 'Actions']}
        />
        <tbody>
          {orders.value?.items.map((order) => (
            <OrderRow
              key={order.id}
              order={order}
              admin={admin}
              act={act}
              onReceived={(said) => {
                // the order is read again (its status and received counts), the receipt said where the form was
                void action.run(() => Promise.resolve(said)).then(refresh);
              }}
            />
          ))}
        </tbody>
      </DataTable>
      {admin && (
        <div class="grid2" style={{ marginTop: '14px' }}>
          <NewOrder
            suppliers={suppliers.value?.items ?? []}
            warehouses={warehouses.value?.items ?? []}
            onCreated={refresh}
          />
          <NewSupplier warehouses={warehouses.value?.items ?? []} onCreated={() => void suppliers.reload()} />
        </div>
      )}
      <h2>Suppliers</h2>
      <ProblemView problem={suppliers.problem} />
      <DataTable caption="Suppliers" id="suppliers">
        <TableHead columns={['Code', 'Name', 'Email', ['Lead time (days)', 'num'], 'Warehouse']} />
        <tbody>
          {suppliers.value?.items.map((supplier) => (
            <tr key={supplier.code}>
              <td>{supplier.code}</td>
              <td>{supplier.name}</td>
              <td>{supplier.email ?? '—'}</td>
              <td class="num">{supplier.lead_time_days ?? '—'}</td>
              <td>{supplier.warehouse ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </>
  );
}

function OrderRow(props: {
  order: PurchaseOrder;
  admin: boolean;
  act: (order: PurchaseOrder, verb: string, body?: unknown) => Promise<unknown>;
  onReceived: (said: string) => void;
}) {
  const { order, admin, act } = props;
  const [receiving, setReceiving] = useState(false);
  const open = ['SENT', 'CONFIRMED', 'PARTIAL'].includes(order.status);
  return (
    <>
      <tr data-order={order.id}>
        <td>{order.id}</td>
        <td>{order.supplier}</td>
        <td>{order.warehouse}</td>
        <td>
          <Badge value={order.status} />
        </td>
        <td>
          {order.lines.map((line) => (
            <div key={line.sku}>
              {line.sku}: {line.received_qty} / {line.qty}
            </div>
          ))}
        </td>
        <td>{order.expected_date ?? '—'}</td>
        <td>
          <div class="actions" style={{ marginTop: 0 }}>
            {admin && order.status === 'DRAFT' && (
              <ConfirmButton label="Send" question="Send it to the supplier?" onConfirm={() => act(order, 'send')} />
            )}
            {admin && order.status === 'SENT' && (
              <ConfirmButton
                label="Confirm"
                question="The supplier confirmed it?"
                onConfirm={() => act(order, 'confirm')}
              />
            )}
            {open && (
              <button
                type="button"
                aria-expanded={receiving}
                onClick={() => {
                  setReceiving(!receiving);
                }}
              >
                Receive…
              </button>
            )}
            {admin && ['DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL'].includes(order.status) && (
              <ConfirmButton
                label="Cancel"
                question="Cancel what is still open?"
                danger
                onConfirm={() => act(order, 'cancel')}
              />
            )}
          </div>
        </td>
      </tr>
      {receiving && (
        <tr>
          <td colSpan={7}>
            <ReceiveForm
              order={order}
              onReceived={(said) => {
                setReceiving(false);
                props.onReceived(said);
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

/** Receive some units of an order's lines, each into a bin given or the one the server suggests (put-away). */
function ReceiveForm({ order, onReceived }: { order: PurchaseOrder; onReceived: (said: string) => void }) {
  const action = useAction();
  const outstanding = order.lines.filter((line) => line.outstanding > 0);
  // where each SKU already lies in the order's warehouse: the server puts it away there unless told otherwise
  const holdings = useLoad(
    () =>
      Promise.all(
        outstanding.map(async (line) => {
          const stock = await get<StockOfSku>(`/v1/stock/${encodeURIComponent(line.sku)}`);
          const bins = stock.warehouses.find((level) => level.warehouse === order.warehouse)?.bins ?? [];
          const most = [...bins].sort((a, b) => b.qty - a.qty || (a.bin < b.bin ? -1 : 1))[0];
          return [line.sku, most?.bin] as const;
        }),
      ).then((pairs) => new Map(pairs)),
    [order.id],
  );
  return (
    <form
      aria-label={`Receive purchase order ${String(order.id)}`}
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const lines = outstanding
          .map((line, i) => {
            const qty = Number(field(form, `qty-${String(i)}`) || '0');
            const bin = field(form, `bin-${String(i)}`);
            return { sku: line.sku, qty, ...(bin ? { bin } : {}) };
          })
          .filter((line) => line.qty !== 0);
        void action.run(async () => {
          const received = await api<Received>('POST', `/v1/purchase-orders/${String(order.id)}/receive`, {
            body: { lines },
            idempotent: true,
          });
          onReceived(
            `Purchase order ${String(order.id)}: received into ${received.put_away.map((put) => `${put.sku} × ${String(put.qty)} → ${put.bin ?? 'no bin'}${put.suggested ? ' (suggested)' : ''}`).join('; ')}.`,
          );
          return null;
        });
      }}
    >
      {outstanding.map((line, i) => (
        <div class="row" key={line.sku}>
          <span style={{ flex: '1 1 160px' }}>
            {line.sku} <span class="muted">({line.outstanding} outstanding)</span>
          </span>
          <label>
            Quantity of {line.sku}
            <input name={`qty-${String(i)}`} type="number" inputMode="numeric" value={line.outstanding} />
          </label>
          <label>
            Bin for {line.sku}
            <input
              name={`bin-${String(i)}`}
              placeholder={
                holdings.value?.get(line.sku)
                  ? `suggested: ${String(holdings.value.get(line.sku))}`
                  : 'empty: an empty bin, if any'
              }
            />
            <span class="muted">Like {FORMATS.bin.example}</span>
          </label>
        </div>
      ))}
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Receive
        </button>
      </div>
      {action.feedback}
    </form>
  );
}

/** The most lines one draft takes (the API's limit). */
const MAX_ORDER_LINES = 1000;

function NewOrder(props: { suppliers: Supplier[]; warehouses: Warehouse[]; onCreated: () => void }) {
  const action = useAction();
  // each line keeps a key of its own, so removing one leaves what was typed into the others where it was
  const [lines, setLines] = useState<number[]>([1]);
  const [nextLine, setNextLine] = useState(2);
  return (
    <form
      class="card"
      aria-labelledby="new-order"
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const expected = field(form, 'expected_date');
        const reference = field(form, 'reference');
        const body = {
          supplier: field(form, 'supplier'),
          warehouse: field(form, 'warehouse'),
          lines: lines.map((line) => ({
            sku: field(form, `sku-${String(line)}`),
            qty: Number(field(form, `qty-${String(line)}`)),
          })),
          ...(expected ? { expected_date: expected } : {}),
          ...(reference ? { reference } : {}),
        };
        void action
          .run(async () => {
            const order = await api<PurchaseOrder>('POST', '/v1/purchase-orders', { body, idempotent: true });
            form.reset();
            setLines([nextLine]);
            setNextLine(nextLine + 1);
            return `Purchase order ${String(order.id)} drafted with ${String(order.lines.length)} ${
              order.lines.length === 1 ? 'line' : 'lines'
            }.`;
          })
          .then(props.onCreated);
      }}
    >
      <h2 id="new-order" style={{ marginTop: 0 }}>
        Draft a purchase order
      </h2>
      <div class="row">
        <CodeSelect label="Supplier" name="supplier" codes={props.suppliers} required />
        <CodeSelect label="Warehouse" name="warehouse" codes={props.warehouses} required />
        <label>
          Expected on (optional)
          <input name="expected_date" type="date" />
        </label>
        <label>
          Reference (optional)
          <input name="reference" maxLength={200} />
        </label>
      </div>
      <fieldset class="lines">
        <legend>Lines</legend>
        {lines.map((line, index) => (
          <div class="row" key={line} data-order-line={index + 1}>
            <label>
              SKU, line {index + 1}
              <input name={`sku-${String(line)}`} required />
            </label>
            <label>
              Quantity, line {index + 1}
              <input name={`qty-${String(line)}`} type="number" inputMode="numeric" required />
            </label>
            <button
              type="button"
              disabled={lines.length === 1}
              aria-label={`Remove line ${String(index + 1)}`}
              onClick={() => {
                setLines(lines.filter((other) => other !== line));
              }}
            >
              Remove
            </button>
          </div>
        ))}
        <div class="actions">
          <button
            type="button"
            disabled={lines.length >= MAX_ORDER_LINES}
            onClick={() => {
              setLines([...lines, nextLine]);
              setNextLine(nextLine + 1);
            }}
          >
            Add line
          </button>
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Draft
        </button>
      </div>
      {action.feedback}
    </form>
  );
}

function NewSupplier(props: { warehouses: Warehouse[]; onCreated: () => void }) {
  const action = useAction();
  return (
    <form
      class="card"
      aria-labelledby="new-supplier"
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const email = field(form, 'email');
        const lead = field(form, 'lead_time_days');
        const warehouse = field(form, 'warehouse');
        const body = {
          code: field(form, 'code'),
          name: field(form, 'name'),
          ...(email ? { email } : {}),
          ...(lead ? { lead_time_days: Number(lead) } : {}),
          ...(warehouse ? { warehouse } : {}),
        };
        void action
          .run(async () => {
            await api('POST', '/v1/suppliers', { body, idempotent: true });
            return `Supplier ${body.code} added.`;
          })
          .then(props.onCreated);
      }}
    >
      <h2 id="new-supplier" style={{ marginTop: 0 }}>
        Add a supplier
      </h2>
      <div class="row">
        <label>
          Code
          <input name="code" required />
        </label>
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Email
          <input name="email" type="email" />
        </label>
        <label>
          Lead time (days)
          <input name="lead_time_days" type="number" min={0} />
        </label>
        <CodeSelect label="Delivers to" name="warehouse" codes={props.warehouses} none="Any" />
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Add
        </button>
      </div>
      {action.feedback}
    </form>
  );
}

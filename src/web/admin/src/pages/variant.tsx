import { useEffect, useRef, useState } from 'preact/hooks';
import { api, get } from '../api.js';
import type { Movement, Page, StockOfSku, Supplier, Variant, Warehouse, WarehouseStock } from '../api.js';
import {
  DataTable,
  Link,
  ProblemView,
  Title,
  field,
  signed,
  useAction,
  useCan,
  useLoad,
  when,
  TableHead,
  CodeSelect,
  FORMATS,
} from '../ui.js';
import { LiveBadge, useLiveCounts } from '../live.js';
import { LedgerChart } from './ledger-chart.js';

/** Reasons an adjustment may give (docs/api.md); one must be chosen. */
const ADJUST_REASONS = ['correction', 'damaged', 'shrinkage', 'promotion', 'return', 'restock', 'other'] as const;
const OPERATIONS = ['receive', 'adjust', 'count', 'transfer'] as const;
type Operation = (typeof OPERATIONS)[number];

/** One variant: its numbers per warehouse, its settings, its ledger and chart, and the forms that change stock. */
export function VariantPage({ sku }: { sku: string }) {
  const can = useCan();
  const path = encodeURIComponent(sku);
  const variant = useLoad(() => get<Variant>(`/v1/variants/${path}`), [sku]);
  const stock = useLoad(
    () => (can('warehouse', 'checkout') ? get<StockOfSku>(`/v1/stock/${path}`) : Promise.resolve(undefined)),
    [sku],
  );
  const ledger = useLoad(
    () =>
      can('warehouse')
        ? get<Page<Movement>>(`/v1/movements?sku=${path}&limit=200`)
        : Promise.resolve({ items: [], next_cursor: null }),
    [sku],
  );
  const warehouses = useLoad(() => get<{ items: Warehouse[] }>('/v1/warehouses'), []);
  const refresh = () => {
    void stock.reload();
    void ledger.reload();
    void variant.reload();
  };
  // a change made elsewhere (a checkout, the API, another console) shows here without a reload
  const live = useLiveCounts([sku], () => {
    void stock.reload();
    void ledger.reload();
  });

  return (
    <>
      <p class="muted">
        <Link to="/stock">← Stock</Link>
      </p>
      <Title>{variant.value ? `${sku} · ${variant.value.product.title}` : sku}</Title>
      <p>
        <LiveBadge live={live} />
      </p>
      <ProblemView problem={variant.problem} />
      <ProblemView problem={stock.problem} />
      <ProblemView problem={warehouses.problem} />
      {stock.value && <PerWarehouse stock={stock.value} />}
      <div class="grid2">
        {/* not before the warehouses have come: a form with no warehouse to choose cannot be sent */}
        {can('warehouse') && warehouses.value && (
          <StockForms
            sku={sku}
            levels={stock.value?.warehouses ?? []}
            warehouses={warehouses.value.items.filter((warehouse) => !warehouse.archived_at)}
            onDone={refresh}
          />
        )}
        {variant.value && <Settings variant={variant.value} onSaved={refresh} editable={can('admin')} />}
      </div>
      {can('warehouse') && (
        <>
          <h2>On hand and available over time</h2>
          <LedgerChart movements={ledger.value?.items ?? []} />
          <h2>Ledger</h2>
          <ProblemView problem={ledger.problem} />
          <DataTable caption="Ledger" id="ledger">
            <TableHead
              columns={[
                'When',
                'Warehouse',
                'Type',
                ['Δ on hand', 'num'],
                ['Δ reserved', 'num'],
                ['On hand after', 'num'],
                'Reason',
                'Actor',
                'Reference',
              ]}
            />
            <tbody>
              {ledger.value?.items.map((movement) => (
                <tr key={movement.id} data-movement={movement.id}>
                  <td>{when(movement.created_at)}</td>
                  <td>{movement.warehouse}</td>
                  <td>{movement.type}</td>
                  <td class="num">{signed(movement.delta_on_hand)}</td>
                  <td class="num">{signed(movement.delta_reserved)}</td>
                  <td class="num">{movement.on_hand_after}</td>
                  <td>{movement.reason ?? ''}</td>
                  <td>{movement.actor ?? ''}</td>
                  <td>{movement.reference ?? movement.reservation_id ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        </>
      )}
    </>
  );
}

function PerWarehouse({ stock }: { stock: StockOfSku }) {
  const columns = ['on_hand', 'reserved', 'committed', 'available', 'incoming', 'damaged', 'quality_control'] as const;
  return (
    <DataTable caption="Stock per warehouse" id="per-warehouse">
      <thead>
        <tr>
          <th scope="col">Warehouse</th>
          {columns.map((column) => (
            <th scope="col" class="num" key={column}>
              {column.replace('_', ' ')}
            </th>
          ))}
          <th scope="col">Bins</th>
        </tr>
      </thead>
      <tbody>
        {stock.warehouses.map((level) => (
          <tr key={level.warehouse} data-warehouse={level.warehouse}>
            <th scope="row">{level.warehouse}</th>
            {columns.map((column) => (
              <td class="num" key={column} data-column={column}>
                {level[column]}
              </td>
            ))}
            <td>{level.bins.map((bin) => `${bin.bin}: ${String(bin.qty)}`).join(', ') || '—'}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">Total</th>
          {columns.map((column) => (
            <td class="num" key={column}>
              {stock.total[column]}
            </td>
          ))}
          <td />
        </tr>
      </tbody>
    </DataTable>
  );
}

/** What a form would send, and the sentence that says what it will change. */
interface Planned {
  path: string;
  body: Record<string, unknown>;
  says: string;
}

/** The most units one operation moves, and the most a stock number holds (docs/api.md: the API's limits). */
const MAX_QTY = 10_000_000;
const MAX_STOCK_NUMBER = 2_147_483_647;

/** Why a form cannot be sent as it is, said before the review; the server still judges what is sent. */
class FormRefusal extends Error {}

/** A whole number of the form within [min, max], else a refusal naming the field. */
function wholeNumber(form: HTMLFormElement, name: string, label: string, min: number, max: number): number {
  const text = field(form, name);
  const value = Number(text);
  if (text === '' || !Number.isInteger(value)) throw new FormRefusal(`${label} must be a whole number.`);
  if (value < min || value > max)
    throw new FormRefusal(`${label} must be from ${min.toLocaleString()} to ${max.toLocaleString()}.`);
  return value;
}

/** A result the server would refuse: a stock number below zero or past what it holds. */
function checkResult(result: number, where: string): void {
  if (result < 0)
    throw new FormRefusal(`This would leave on hand in ${where} at ${result.toLocaleString()}: it cannot go below 0.`);
  if (result > MAX_STOCK_NUMBER)
    throw new FormRefusal(`This would take on hand in ${where} past ${MAX_STOCK_NUMBER.toLocaleString()}.`);
}

function plan(operation: Operation, form: HTMLFormElement, sku: string, levels: WarehouseStock[]): Planned {
  const warehouse = field(form, 'warehouse');
  const onHand = levels.find((level) => level.warehouse === warehouse)?.on_hand ?? 0;
  const reference = field(form, 'reference') || undefined;
  const optional = { ...(reference ? { reference } : {}) };
  switch (operation) {
    case 'receive': {
      const qty = wholeNumber(form, 'qty', 'Quantity', 1, MAX_QTY);
      checkResult(onHand + qty, warehouse);
      const bin = field(form, 'bin');
      return {
        path: '/v1/stock/receive',
        body: { sku, warehouse, qty, ...(bin ? { bin } : {}), ...optional },
        says: `Receive ${String(qty)} into ${warehouse}${bin ? ` (bin ${bin})` : ''}: on hand ${String(onHand)} → ${String(onHand + qty)}.`,
      };
    }
    case 'adjust': {
      const delta = wholeNumber(form, 'delta', 'The change', -MAX_QTY, MAX_QTY);
      if (delta === 0) throw new FormRefusal('The change must not be 0.');
      checkResult(onHand + delta, warehouse);
      const reason = field(form, 'reason');
      return {
        path: '/v1/stock/adjust',
        // refused (409 stale_quantity) if the level moved since this page read it: what was confirmed is what happens
        body: { sku, warehouse, delta, reason, expected_on_hand: onHand, ...optional },
        says: `Adjust ${warehouse} by ${signed(delta)} (${reason || 'no reason'}): on hand ${String(onHand)} → ${String(onHand + delta)}.`,
      };
    }
    case 'count': {
      const counted = wholeNumber(form, 'counted', 'Counted', 0, MAX_QTY);
      return {
        path: '/v1/stock/count',
        body: { sku, warehouse, counted, expected_on_hand: onHand, ...optional },
        says: `Record a count of ${String(counted)} in ${warehouse}: on hand ${String(onHand)} → ${String(counted)} (${signed(counted - onHand)}).`,
      };
    }
    case 'transfer': {
      const from = field(form, 'from');
      const to = field(form, 'to');
      if (from === to) throw new FormRefusal('From and To must be two different warehouses.');
      const qty = wholeNumber(form, 'qty', 'Quantity', 1, MAX_QTY);
      const fromOnHand = levels.find((level) => level.warehouse === from)?.on_hand ?? 0;
      const toOnHand = levels.find((level) => level.warehouse === to)?.on_hand ?? 0;
      checkResult(fromOnHand - qty, from);
      checkResult(toOnHand + qty, to);
      return {
        path: '/v1/stock/transfer',
        body: { sku, from, to, qty, ...optional },
        says: `Move ${String(qty)} from ${from} (${String(fromOnHand)} → ${String(fromOnHand - qty)}) to ${to} (${String(toOnHand)} → ${String(toOnHand + qty)}).`,
      };
    }
  }
}

function StockForms(props: { sku: string; levels: WarehouseStock[]; warehouses: Warehouse[]; onDone: () => void }) {
  const [operation, setOperation] = useState<Operation>('adjust');
  const [planned, setPlanned] = useState<Planned | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  // a transfer's two warehouses start different and stay so when From changes
  const codes = props.warehouses.map((warehouse) => warehouse.code);
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const fromCode = from ?? codes[0] ?? '';
  const otherThan = (code: string) => codes.find((other) => other !== code) ?? code;
  const toCode = to ?? otherThan(fromCode);
  // the question takes the focus, so a keyboard user confirms (Enter) or goes back (Tab, Enter) from where they are
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (planned) confirm.current?.focus();
  }, [planned]);
  const action = useAction();
  const warehouseSelect = (name: string, label: string) => (
    <CodeSelect label={label} name={name} codes={props.warehouses} required />
  );
  return (
    <section class="card" aria-labelledby="change-stock">
      <h2 id="change-stock" style={{ marginTop: 0 }}>
        Change stock
      </h2>
      <div class="tabs" role="group" aria-label="Operation">
        {OPERATIONS.map((name) => (
          <button
            key={name}
            type="button"
            aria-pressed={operation === name}
            onClick={() => {
              setOperation(name);
              setPlanned(null);
              setRefused(null);
              action.clear();
            }}
          >
            {name[0]?.toUpperCase()}
            {name.slice(1)}
          </button>
        ))}
      </div>
      <form
        id="stock-form"
        aria-label={`${operation} form`}
        key={operation}
        onSubmit={(event) => {
          event.preventDefault();
          action.clear();
          setPlanned(null);
          setRefused(null);
          try {
            setPlanned(plan(operation, event.currentTarget, props.sku, props.levels));
          } catch (error) {
            if (!(error instanceof FormRefusal)) throw error;
            setRefused(error.message);
          }
        }}
      >
        <div class="row">
          {operation === 'transfer' ? (
            <>
              <label>
                From
                <select
                  name="from"
                  required
                  value={fromCode}
                  onChange={(event) => {
                    const chosen = event.currentTarget.value;
                    setFrom(chosen);
                    if (toCode === chosen) setTo(otherThan(chosen));
                  }}
                >
                  {codes.map((code) => (
                    <option key={code} value={code}>
                      {code}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                To
                <select
                  name="to"
                  required
                  value={toCode}
                  onChange={(event) => {
                    setTo(event.currentTarget.value);
                  }}
                >
                  {codes.map((code) => (
                    <option key={code} value={code}>
                      {code}
                    </option>
                  ))}
                </select>
              </label>
            </>
          ) : (
            warehouseSelect('warehouse', 'Warehouse')
          )}
          {(operation === 'receive' || operation === 'transfer') && (
            <label>
              Quantity
              <input name="qty" type="number" inputMode="numeric" required />
            </label>
          )}
          {operation === 'adjust' && (
            <>
              <label>
                Change (+ or −)
                <input name="delta" type="number" inputMode="numeric" required />
              </label>
              <label>
                Reason
                <select name="reason" required>
                  <option value="">Choose a reason…</option>
                  {ADJUST_REASONS.map((reason) => (
                    <option key={reason} value={reason}>
                      {reason}
                    </option>
                  ))}
                </select>
              </label>
            </>
          )}
          {operation === 'count' && (
            <label>
              Counted
              <input name="counted" type="number" inputMode="numeric" required />
            </label>
          )}
          {operation === 'receive' && (
            <label>
              Bin (optional)
              <input name="bin" placeholder={FORMATS.bin.example} />
              <span class="muted">Like {FORMATS.bin.example}</span>
            </label>
          )}
          <label>
            Reference (optional)
            <input name="reference" />
          </label>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Review {operation}
          </button>
        </div>
      </form>
      {refused && (
        <div class="problem" role="alert" data-code="form">
          {refused}
        </div>
      )}
      {planned && (
        <div class="confirm" role="alertdialog" aria-label="Confirm the change" aria-describedby="planned-change">
          <p id="planned-change" style={{ margin: '0 0 6px' }}>
            {planned.says}
          </p>
          <button
            type="button"
            class="primary"
            ref={confirm}
            disabled={action.busy}
            onClick={() => {
              const { path, body } = planned;
              setPlanned(null);
              void action
                .run(async () => {
                  await api('POST', path, { body, idempotent: true });
                  return `Done: ${planned.says}`;
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
    </section>
  );
}

/**
 * A variant's attributes from the form's lines (name=value). A value keeps the kind it had (a number, true or
 * false) when it still reads as one; else it is text. A line without = is sent as it is, for the server to refuse.
 */
function attributesOf(text: string, before: Variant['attributes']): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    const name = (at < 0 ? line : line.slice(0, at)).trim();
    const value = at < 0 ? '' : line.slice(at + 1).trim();
    const was = before[name];
    if (typeof was === 'number' && value !== '' && Number.isFinite(Number(value))) attributes[name] = Number(value);
    else if (typeof was === 'boolean' && (value === 'true' || value === 'false')) attributes[name] = value === 'true';
    else attributes[name] = value;
  }
  return attributes;
}

function Settings(props: { variant: Variant; onSaved: () => void; editable: boolean }) {
  const { variant } = props;
  const action = useAction();
  const suppliers = useLoad(
    () => (props.editable ? get<Page<Supplier>>('/v1/suppliers') : Promise.resolve({ items: [], next_cursor: null })),
    [props.editable],
  );
  const optionalNumber = (form: HTMLFormElement, name: string) => {
    const text = field(form, name);
    return text === '' ? null : Number(text);
  };
  return (
    <form
      class="card"
      aria-labelledby="settings"
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const policy = field(form, 'policy') as Variant['backorder']['policy'];
        const leadDays = optionalNumber(form, 'backorder_lead_days');
        const body = {
          product: {
            title: field(form, 'title'),
            category: field(form, 'category') || null,
            tags: field(form, 'tags')
              .split(',')
              .map((tag) => tag.trim())
              .filter(Boolean),
          },
          attributes: attributesOf(field(form, 'attributes'), variant.attributes),
          limit_scope: field(form, 'limit_scope') as Variant['limit_scope'],
          track_inventory: (form.elements.namedItem('track_inventory') as HTMLInputElement).checked,
          low_stock_threshold: Number(field(form, 'low_stock_threshold')),
          safety_stock: Number(field(form, 'safety_stock')),
          reorder_point: optionalNumber(form, 'reorder_point'),
          reorder_qty: optionalNumber(form, 'reorder_qty'),
          lead_time_days: optionalNumber(form, 'lead_time_days'),
          supplier: field(form, 'supplier') || null,
          backorder: {
            policy,
            limit: Number(field(form, 'backorder_limit') || '0'),
            ...(leadDays === null ? {} : { lead_days: leadDays }),
          },
        };
        void action
          .run(async () => {
            await api('PUT', `/v1/variants/${encodeURIComponent(variant.sku)}`, { body, idempotent: true });
            return 'Settings saved.';
          })
          .then(props.onSaved);
      }}
    >
      <h2 id="settings" style={{ marginTop: 0 }}>
        Settings
      </h2>
      <fieldset disabled={!props.editable} style={{ border: 0, padding: 0, margin: 0 }}>
        {!props.editable && <p class="muted">Changing settings needs a key with scope admin.</p>}
        <div class="row">
          <label>
            Title
            <input name="title" required maxLength={200} defaultValue={variant.product.title} />
          </label>
          <label>
            Category
            <input name="category" defaultValue={variant.product.category ?? ''} placeholder="apparel/shirts" />
            <span class="muted">A path of lower-case words joined by /</span>
          </label>
          <label>
            Tags
            <input name="tags" defaultValue={variant.product.tags.join(', ')} placeholder="summer, cotton" />
            <span class="muted">Separated by commas</span>
          </label>
        </div>
        <label>
          Attributes
          <textarea
            name="attributes"
            rows={3}
            defaultValue={Object.entries(variant.attributes)
              .map(([name, value]) => `${name}=${String(value)}`)
              .join('\n')}
          />
          <span class="muted">One per line, as name=value (size=M)</span>
        </label>
        <div class="row">
          <label>
            Limits apply to
            <select name="limit_scope">
              <option value="warehouse" selected={variant.limit_scope === 'warehouse'}>
                each warehouse
              </option>
              <option value="variant" selected={variant.limit_scope === 'variant'}>
                the sum over all warehouses
              </option>
            </select>
          </label>
          <label class="inline">
            <input name="track_inventory" type="checkbox" defaultChecked={variant.track_inventory} />
            Track inventory (off: reservations are recorded, never refused)
          </label>
        </div>
        <div class="row">
          <label>
            Low-stock threshold
            <input
              name="low_stock_threshold"
              type="number"
              min={0}
              required
              defaultValue={variant.low_stock_threshold}
            />
          </label>
          <label>
            Safety stock
            <input name="safety_stock" type="number" min={0} required defaultValue={variant.safety_stock} />
          </label>
          <label>
            Reorder point
            <input name="reorder_point" type="number" min={0} defaultValue={variant.reorder_point ?? ''} />
          </label>
          <label>
            Reorder quantity
            <input name="reorder_qty" type="number" min={1} defaultValue={variant.reorder_qty ?? ''} />
          </label>
          <label>
            Lead time (days)
            <input name="lead_time_days" type="number" min={0} defaultValue={variant.lead_time_days ?? ''} />
          </label>
          <label>
            Supplier
            <select name="supplier">
              <option value="">None</option>
              {(suppliers.value?.items ?? []).map((supplier) => (
                <option key={supplier.code} value={supplier.code} selected={supplier.code === variant.supplier}>
                  {supplier.code}
                </option>
              ))}
              {variant.supplier && !suppliers.value?.items.some((supplier) => supplier.code === variant.supplier) && (
                <option value={variant.supplier} selected>
                  {variant.supplier}
                </option>
              )}
            </select>
          </label>
          <label>
            Backorder policy
            <select name="policy">
              {(['deny', 'backorder', 'preorder'] as const).map((policy) => (
                <option key={policy} value={policy} selected={policy === variant.backorder.policy}>
                  {policy === 'deny' ? 'deny (sell what is there)' : policy}
                </option>
              ))}
            </select>
          </label>
          <label>
            Backorder limit
            <input name="backorder_limit" type="number" min={0} defaultValue={variant.backorder.limit} />
          </label>
          <label>
            Backorder lead (days)
            <input name="backorder_lead_days" type="number" min={0} defaultValue={variant.backorder.lead_days ?? ''} />
          </label>
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy}>
            Save settings
          </button>
        </div>
      </fieldset>
      {action.feedback}
    </form>
  );
}

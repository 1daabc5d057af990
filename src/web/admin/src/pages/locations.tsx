import { api, get, query } from '../api.js';
import type { Warehouse } from '../api.js';
import { navigate } from '../router.js';
import { useState } from 'preact/hooks';
import {
  ConfirmButton,
  DataTable,
  Link,
  ProblemView,
  TableHead,
  Title,
  field,
  signed,
  useAction,
  useLoad,
  when,
} from '../ui.js';

interface Location {
  code: string;
  type: 'pick_face' | 'bulk' | 'overflow';
  active: boolean;
  max_weight_g: number | null;
  max_volume_cm3: number | null;
  fill: { units: number; weight_g: number; volume_cm3: number };
  contents: { sku: string; qty: number; min_qty: number | null; last_counted_at: string | null }[];
}

interface LocationList {
  warehouse: string;
  capacity_cm3: number | null;
  volume_cm3: number;
  items: Location[];
}

interface Replenishment {
  sku: string;
  to: string;
  on_face: number;
  min_qty: number;
  qty: number;
  from: { location: string; qty: number }[];
}

interface PickList {
  reservation_id: string;
  order_ref: string;
  lines: { line_no: number; sku: string; warehouse: string; qty: number; unlocated: number }[];
  walk: { warehouse: string; location: string; sku: string; qty: number }[];
}

interface CountPlan {
  method: 'abc' | 'oldest';
  window_days: number;
  items: { location: string; sku: string; qty: number; class: 'A' | 'B' | 'C'; last_counted_at: string | null }[];
}

interface LocationCount {
  location: string;
  sku: string;
  expected: number;
  counted: number;
  variance: number;
}

/** `used of max` (a share when there is a limit), or just what is used. */
const against = (used: number, max: number | null, unit: string): string =>
  max === null
    ? `${String(used)} ${unit}`
    : `${String(used)} of ${String(max)} ${unit} (${String(Math.round((100 * used) / max))}%)`;

const TYPE_LABEL: Record<Location['type'], string> = { pick_face: 'pick face', bulk: 'bulk', overflow: 'overflow' };

/**
 * The warehouse floor: a warehouse's locations with their fill, pick faces to refill, what to count today (a count
 * recorded from its row, with its variance), and a reservation's pick list.
 */
export function LocationsPage({ query: params }: { query: URLSearchParams }) {
  const warehouses = useLoad(() => get<{ items: Warehouse[] }>('/v1/warehouses'), []);
  const warehouse = params.get('warehouse') ?? warehouses.value?.items[0]?.code ?? '';
  const reservation = params.get('reservation') ?? '';
  const locations = useLoad(
    () =>
      warehouse
        ? get<LocationList>(`/v1/warehouses/${encodeURIComponent(warehouse)}/locations`)
        : Promise.resolve(null),
    [warehouse],
  );
  const refills = useLoad(
    () =>
      warehouse
        ? get<{ items: Replenishment[] }>(`/v1/warehouses/${encodeURIComponent(warehouse)}/replenishments`)
        : Promise.resolve({ items: [] }),
    [warehouse],
  );
  const pickList = useLoad(
    () =>
      reservation
        ? get<PickList>(`/v1/reservations/${encodeURIComponent(reservation)}/pick-list`)
        : Promise.resolve(null),
    [reservation],
  );
  const plan = useLoad(
    () =>
      warehouse ? get<CountPlan>(`/v1/warehouses/${encodeURIComponent(warehouse)}/count-plan`) : Promise.resolve(null),
    [warehouse],
  );
  // the variance of each count recorded here, by location and SKU, shown on its row
  const [variances, setVariances] = useState<Record<string, number>>({});
  const action = useAction();
  const go = (next: { warehouse?: string; reservation?: string }) => {
    navigate(`/floor${query({ warehouse, reservation, ...next })}`, { replace: true });
  };
  const refill = (move: Replenishment) =>
    action
      .run(async () => {
        for (const stop of move.from)
          await api('POST', `/v1/warehouses/${encodeURIComponent(warehouse)}/relocations`, {
            idempotent: true,
            body: { sku: move.sku, from: stop.location, to: move.to, qty: stop.qty },
          });
        return `Moved ${String(move.qty)} of ${move.sku} to ${move.to}.`;
      })
      .then(() => {
        void locations.reload();
        void refills.reload();
      });

  const count = (location: string, sku: string, counted: string) =>
    action
      .run(async () => {
        const result = await api<LocationCount>(
          'POST',
          `/v1/warehouses/${encodeURIComponent(warehouse)}/locations/${encodeURIComponent(location)}/counts`,
          { idempotent: true, body: { sku, counted: Number(counted) } },
        );
        setVariances((before) => ({ ...before, [`${location}/${sku}`]: result.variance }));
        return `Counted ${String(result.counted)} of ${sku} in ${location}: expected ${String(result.expected)}, variance ${signed(result.variance)}.`;
      })
      .then(() => {
        void locations.reload();
        void plan.reload();
      });

  return (
    <>
      <Title>Floor</Title>
      {action.feedback}
      <form
        class="filters"
        onChange={(event) => {
          go({ warehouse: field(event.currentTarget, 'warehouse') });
        }}
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <label>
          Warehouse
          <select name="warehouse" value={warehouse}>
            {(warehouses.value?.items ?? []).map((item) => (
              <option key={item.code} value={item.code}>
                {item.code}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ProblemView problem={warehouses.problem ?? locations.problem} />
      {locations.value && (
        <p class="muted" id="warehouse-fill">
          {locations.value.warehouse}: {against(locations.value.volume_cm3, locations.value.capacity_cm3, 'cm³')} on
          hand
        </p>
      )}
      <DataTable caption="Locations with their fill" id="locations">
        <TableHead columns={['Location', 'Type', 'Active', ['Units', 'num'], 'Weight', 'Volume', 'Holds']} />
        <tbody>
          {locations.value?.items.map((location) => (
            <tr key={location.code} data-location={location.code}>
              <td>{location.code}</td>
              <td>{TYPE_LABEL[location.type]}</td>
              <td>{location.active ? 'yes' : 'no'}</td>
              <td class="num">{location.fill.units}</td>
              <td>{against(location.fill.weight_g, location.max_weight_g, 'g')}</td>
              <td>{against(location.fill.volume_cm3, location.max_volume_cm3, 'cm³')}</td>
              <td>
                {location.contents.map((held, i) => (
                  <span key={held.sku}>
                    {i > 0 && ', '}
                    <Link to={`/variants/${encodeURIComponent(held.sku)}`}>{held.sku}</Link> {held.qty}
                    {held.min_qty === null ? '' : ` (min ${String(held.min_qty)})`}
                  </span>
                ))}
              </td>
            </tr>
          ))}
          {locations.value?.items.length === 0 && (
            <tr>
              <td colSpan={7}>This warehouse has no locations.</td>
            </tr>
          )}
        </tbody>
      </DataTable>

      <h2>Pick faces to refill</h2>
      <ProblemView problem={refills.problem} />
      <DataTable caption="Pick faces below their minimum" id="refills">
        <TableHead
          columns={['SKU', 'Pick face', ['On face', 'num'], ['Minimum', 'num'], ['Move', 'num'], 'From', 'Action']}
        />
        <tbody>
          {refills.value?.items.map((move) => (
            <tr key={`${move.sku}@${move.to}`}>
              <td>{move.sku}</td>
              <td>{move.to}</td>
              <td class="num">{move.on_face}</td>
              <td class="num">{move.min_qty}</td>
              <td class="num">{move.qty}</td>
              <td>{move.from.map((stop) => `${stop.location} ${String(stop.qty)}`).join(', ')}</td>
              <td>
                <ConfirmButton
                  label="Move"
                  question={`Move ${String(move.qty)} of ${move.sku} to ${move.to}?`}
                  onConfirm={() => refill(move)}
                />
              </td>
            </tr>
          ))}
          {refills.value?.items.length === 0 && (
            <tr>
              <td colSpan={7}>Every pick face is at or above its minimum.</td>
            </tr>
          )}
        </tbody>
      </DataTable>

      <h2>Count today</h2>
      <ProblemView problem={plan.problem} />
      <DataTable
        caption={
          plan.value?.method === 'abc'
            ? `What to count today: class A (most value moved in ${String(plan.value.window_days)} days) first, oldest count first`
            : 'What to count today'
        }
        id="count-plan"
      >
        <TableHead columns={['Location', 'SKU', 'Class', 'Last counted', 'Count', ['Variance', 'num']]} />
        <tbody>
          {plan.value?.items.map((item) => {
            const key = `${item.location}/${item.sku}`;
            const variance = variances[key];
            return (
              <tr key={key} data-count={key}>
                <td>{item.location}</td>
                <td>{item.sku}</td>
                <td>{item.class}</td>
                <td>{item.last_counted_at === null ? 'never' : when(item.last_counted_at)}</td>
                <td>
                  <form
                    onSubmit={(event) => {
                      event.preventDefault();
                      void count(item.location, item.sku, field(event.currentTarget, 'counted'));
                    }}
                  >
                    <input
                      name="counted"
                      type="number"
                      inputMode="numeric"
                      min={0}
                      required
                      size={6}
                      aria-label={`Counted ${item.sku} in ${item.location}`}
                    />{' '}
                    <button type="submit" disabled={action.busy}>
                      Record
                    </button>
                  </form>
                </td>
                <td class="num">{variance === undefined ? '' : signed(variance)}</td>
              </tr>
            );
          })}
          {plan.value?.items.length === 0 && (
            <tr>
              <td colSpan={6}>Nothing to count: no location holds units.</td>
            </tr>
          )}
        </tbody>
      </DataTable>

      <h2>Pick list</h2>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          go({ reservation: field(event.currentTarget, 'reservation') });
        }}
      >
        <label>
          Reservation
          <input name="reservation" defaultValue={reservation} placeholder="reservation id" size={38} />
        </label>
        <button type="submit">Show</button>
      </form>
      <ProblemView problem={pickList.problem} />
      {pickList.value && (
        <DataTable caption={`Pick list of ${pickList.value.order_ref}`} id="pick-list">
          <TableHead columns={['Warehouse', 'Location', 'SKU', ['Qty', 'num']]} />
          <tbody>
            {pickList.value.walk.map((stop) => (
              <tr key={`${stop.warehouse}/${stop.location}/${stop.sku}`}>
                <td>{stop.warehouse}</td>
                <td>{stop.location}</td>
                <td>{stop.sku}</td>
                <td class="num">{stop.qty}</td>
              </tr>
            ))}
            {pickList.value.lines
              .filter((line) => line.unlocated > 0)
              .map((line) => (
                <tr key={`unlocated-${String(line.line_no)}`}>
                  <td>{line.warehouse}</td>
                  <td>in no location</td>
                  <td>{line.sku}</td>
                  <td class="num">{line.unlocated}</td>
                </tr>
              ))}
            {pickList.value.lines.length === 0 && (
              <tr>
                <td colSpan={4}>Nothing left to pick.</td>
              </tr>
            )}
          </tbody>
        </DataTable>
      )}
    </>
  );
}

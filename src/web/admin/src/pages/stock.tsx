import { useEffect, useState } from 'preact/hooks';
import { download, get, query } from '../api.js';
import { LiveBadge, useLiveCounts } from '../live.js';
import type { Page, StockRow, Supplier, Warehouse } from '../api.js';
import { navigate } from '../router.js';
import { Badge, DataTable, Link, ProblemView, Title, useAction, useCan, useLoad } from '../ui.js';
import { matched } from '../counts.js';

/** The filters of GET /v1/stock that the page keeps in its URL (a view can be shared by its address). */
const FILTERS = ['warehouse', 'status', 'category', 'tag', 'supplier', 'below_reorder_point', 'q', 'sort', 'order'];
const STATUSES = ['in_stock', 'low', 'out', 'preorder', 'backorder'] as const;
const NUMBER_COLUMNS = ['on_hand', 'reserved', 'committed', 'available', 'incoming'] as const;
const PAGE_SIZE = 50;
/** The exports of the current filter: the same query on the export routes. */
const EXPORTS = [
  { extension: 'csv', label: 'CSV' },
  { extension: 'xlsx', label: 'Excel' },
] as const;

/** The stock list: filters (in the URL), live counts, exports of the current filter. */
export function StockPage({ query: params }: { query: URLSearchParams }) {
  const can = useCan();
  // "low now": everything low or out at this moment (GET /v1/stock/low), which takes the filters but a status
  const lowNow = params.get('view') === 'low';
  const filters = Object.fromEntries(
    FILTERS.map((name) => [name, lowNow && name === 'status' ? '' : (params.get(name) ?? '')]),
  );
  const cursor = params.get('cursor') ?? '';
  const filterQuery = query(filters);
  const list = useLoad(
    () => get<Page<StockRow>>(`/v1/stock${lowNow ? '/low' : ''}${query({ ...filters, limit: PAGE_SIZE, cursor })}`),
    [filterQuery, cursor, lowNow],
  );
  const warehouses = useLoad(() => get<{ items: Warehouse[] }>('/v1/warehouses'), []);
  const suppliers = useLoad(
    () => (can('warehouse') ? get<Page<Supplier>>('/v1/suppliers') : Promise.resolve({ items: [], next_cursor: null })),
    [],
  );
  const exporting = useAction();
  const live = useLiveCounts(list.value?.items.map((row) => row.sku) ?? [], () => void list.reload());

  const setFilters = (changes: Record<string, string>) => {
    // a new filter starts from the first page
    const next = query({ view: lowNow ? 'low' : '', ...filters, ...changes });
    navigate(`/stock${next}`, { replace: true });
  };
  const sortBy = (column: string) => {
    const order = filters.sort === column && filters.order !== 'desc' ? 'desc' : 'asc';
    setFilters({ sort: column, order });
  };
  const items = list.value?.items ?? [];
  // the text filters as typed, applied on submit (a live reload of the rows must not undo typing)
  const [typed, setTyped] = useState({ category: filters.category, tag: filters.tag, q: filters.q });
  useEffect(() => {
    setTyped({ category: filters.category ?? '', tag: filters.tag ?? '', q: filters.q ?? '' });
  }, [filters.category, filters.tag, filters.q]);
  const typing = (name: 'category' | 'tag' | 'q') => (event: { currentTarget: HTMLInputElement }) => {
    setTyped({ ...typed, [name]: event.currentTarget.value });
  };

  return (
    <>
      <Title>Stock</Title>
      <form
        class="card"
        aria-label="Filters"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          setFilters(
            Object.fromEntries(
              FILTERS.filter((name) => name !== 'sort' && name !== 'order').map((name) => [
                name,
                form
                  .getAll(name)
                  .filter((value) => typeof value === 'string')
                  .join(''),
              ]),
            ),
          );
        }}
      >
        <div class="row">
          <FilterSelect
            label="Warehouse"
            name="warehouse"
            none="All warehouses"
            value={filters.warehouse ?? ''}
            choices={(warehouses.value?.items ?? []).map((warehouse) => ({
              value: warehouse.code,
              label: `${warehouse.code} · ${warehouse.name}`,
            }))}
            onChoose={setFilters}
          />
          <FilterSelect
            label="Status"
            name="status"
            disabled={lowNow}
            none={lowNow ? 'low or out now' : 'Any status'}
            value={filters.status ?? ''}
            choices={STATUSES.map((status) => ({ value: status, label: status.replace('_', ' ') }))}
            onChoose={setFilters}
          />
          <FilterSelect
            label="Supplier"
            name="supplier"
            none="Any supplier"
            value={filters.supplier ?? ''}
            choices={(suppliers.value?.items ?? []).map((supplier) => ({ value: supplier.code, label: supplier.code }))}
            onChoose={setFilters}
          />
          <label>
            Category
            <input name="category" value={typed.category} onInput={typing('category')} placeholder="apparel/shirts" />
          </label>
          <label>
            Tag
            <input name="tag" value={typed.tag} onInput={typing('tag')} />
          </label>
          <label>
            Search SKU or title
            <input name="q" type="search" value={typed.q} onInput={typing('q')} />
          </label>
          <label class="inline">
            <input
              type="checkbox"
              name="below_reorder_point"
              value="true"
              checked={filters.below_reorder_point === 'true'}
              onChange={(event) => {
                setFilters({ below_reorder_point: event.currentTarget.checked ? 'true' : '' });
              }}
            />
            Below reorder point
          </label>
        </div>
        <div class="actions">
          <button class="primary" type="submit">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              navigate('/stock', { replace: true });
            }}
          >
            Clear
          </button>
          <button
            type="button"
            aria-pressed={lowNow}
            onClick={() => {
              setFilters({ view: lowNow ? '' : 'low', status: '' });
            }}
          >
            Everything low or out now
          </button>
          <span class="muted" style={{ marginLeft: 'auto' }}>
            {lowNow ? 'Export what is low now:' : 'Export this filter:'}
          </span>
          {EXPORTS.map((format) => (
            <button
              key={format.extension}
              type="button"
              id={`export-${format.extension}`}
              disabled={exporting.busy}
              onClick={() =>
                void exporting.run(async () => {
                  await download(
                    `/v1/stock${lowNow ? '/low' : ''}/export.${format.extension}${filterQuery}`,
                    `stock${lowNow ? '-low' : ''}.${format.extension}`,
                  );
                  return `${format.label} file downloaded.`;
                })
              }
            >
              {format.label}
            </button>
          ))}
        </div>
        {exporting.feedback}
      </form>

      <ProblemView problem={list.problem} />
      <p class="muted" role="status" aria-live="polite">
        {list.loading && !list.value
          ? 'Loading…'
          : `${matched(list.value ?? {}, items.length)} rows match${items.length ? `; showing ${String(items.length)}` : ''}.`}{' '}
        {items.length > 0 && <LiveBadge live={live} />}
      </p>
      <DataTable caption="Stock levels" id="stock-table" stacked>
        <thead>
          <tr>
            <SortHeader column="sku" label="SKU" filters={filters} onSort={sortBy} />
            <th class="hide-narrow">Title</th>
            <th>Warehouse</th>
            {NUMBER_COLUMNS.map((column) => (
              <SortHeader
                key={column}
                column={column}
                label={column.replace('_', ' ')}
                filters={filters}
                onSort={sortBy}
                numeric
              />
            ))}
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {items.map((row) => (
            <tr key={`${row.sku}@${row.warehouse}`} data-sku={row.sku} data-warehouse={row.warehouse}>
              <td data-label="SKU">
                <Link to={`/variants/${encodeURIComponent(row.sku)}`}>{row.sku}</Link>
              </td>
              <td class="hide-narrow">{row.title}</td>
              <td data-label="Warehouse">{row.warehouse}</td>
              {NUMBER_COLUMNS.map((column) => (
                <td key={column} class="num" data-column={column} data-label={column.replace('_', ' ')}>
                  {row[column]}
                </td>
              ))}
              <td data-label="Status">
                <Badge value={row.status} />
              </td>
            </tr>
          ))}
          {list.value && items.length === 0 && (
            <tr>
              <td colSpan={9}>Nothing matches these filters.</td>
            </tr>
          )}
        </tbody>
      </DataTable>
      <div class="actions">
        {cursor && (
          <button
            type="button"
            onClick={() => {
              history.back();
            }}
          >
            Previous page
          </button>
        )}
        {list.value?.next_cursor && (
          <button
            type="button"
            onClick={() => {
              navigate(`/stock${query({ view: lowNow ? 'low' : '', ...filters, cursor: list.value?.next_cursor })}`);
            }}
          >
            Next page
          </button>
        )}
      </div>
    </>
  );
}

/** A filter chosen from a list: applied as soon as it is chosen. */
function FilterSelect(props: {
  label: string;
  name: string;
  none: string;
  value: string;
  choices: readonly { value: string; label: string }[];
  onChoose: (changes: Record<string, string>) => void;
  disabled?: boolean;
}) {
  return (
    <label>
      {props.label}
      <select
        name={props.name}
        value={props.value}
        disabled={props.disabled}
        onChange={(event) => {
          props.onChoose({ [props.name]: event.currentTarget.value });
        }}
      >
        <option value="">{props.none}</option>
        {props.choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function SortHeader(props: {
  column: string;
  label: string;
  filters: Record<string, string>;
  onSort: (column: string) => void;
  numeric?: boolean;
}) {
  const sorted = props.filters.sort === props.column;
  const direction = sorted ? (props.filters.order === 'desc' ? 'descending' : 'ascending') : undefined;
  return (
    <th class={props.numeric ? 'num' : undefined} aria-sort={direction} scope="col">
      <button
        type="button"
        class="sort"
        onClick={() => {
          props.onSort(props.column);
        }}
      >
        {props.label}
        {sorted ? (direction === 'descending' ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
}

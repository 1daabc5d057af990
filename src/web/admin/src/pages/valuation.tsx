import { download, get, query } from '../api.js';
import { navigate } from '../router.js';
import { DataTable, Field, ProblemView, TableHead, Title, useAction, useLoad } from '../ui.js';

const GROUPS = ['warehouse', 'category', 'supplier', 'sku'] as const;
const GROUP_LABELS = { warehouse: 'Warehouse', category: 'Category', supplier: 'Supplier', sku: 'SKU' } as const;

/** Stock and its value as GET /v1/valuation answers it: amounts in minor units of `currency`. */
interface Valued {
  levels: number;
  on_hand: number;
  uncosted_units: number;
  average_cost: number | null;
  value: number;
}

interface Valuation {
  as_of: string;
  currency: string;
  group_by: (typeof GROUPS)[number];
  groups: (Valued & { key: string | null })[];
  total: Valued;
}

/**
 * Minor units as money of the currency ("$1,234.50"): the decimal is written from the integer as text and handed to
 * Intl as a string, so no amount passes through a float on its way to the screen.
 */
function money(minor: number | null, currency: string): string {
  if (minor === null) return '—';
  const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  const decimal = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return format.format(`${minor < 0 ? '-' : ''}${decimal}` as `${number}`);
}

function ValuedCells({ valued, currency }: { valued: Valued; currency: string }) {
  return (
    <>
      <td class="num">{valued.levels}</td>
      <td class="num">{valued.on_hand}</td>
      <td class="num">{valued.uncosted_units}</td>
      <td class="num">{money(valued.average_cost, currency)}</td>
      <td class="num">{money(valued.value, currency)}</td>
    </>
  );
}

/** What the stock on hand is worth at moving-average cost, as of a date, by warehouse, category, supplier or SKU. */
export function ValuationPage({ query: params }: { query: URLSearchParams }) {
  const asOf = params.get('as_of') ?? '';
  const groupBy = params.get('group_by') ?? 'warehouse';
  const filter = query({ as_of: asOf, group_by: groupBy });
  const report = useLoad(() => get<Valuation>(`/v1/valuation${filter}`), [filter]);
  const exporting = useAction();
  const change = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    const text = next.toString();
    navigate(`/valuation${text ? `?${text}` : ''}`, { replace: true });
  };
  const valuation = report.value;
  return (
    <>
      <Title>Valuation</Title>
      <form
        class="card filters"
        aria-label="Valuation"
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <Field label="As of" hint="the end of that day (UTC); empty: now">
          <input
            name="as_of"
            type="date"
            value={asOf}
            onChange={(event) => {
              change('as_of', event.currentTarget.value);
            }}
          />
        </Field>
        <Field label="Group by">
          <select
            name="group_by"
            value={groupBy}
            onChange={(event) => {
              change('group_by', event.currentTarget.value);
            }}
          >
            {GROUPS.map((group) => (
              <option key={group} value={group}>
                {group}
              </option>
            ))}
          </select>
        </Field>
        <div class="actions">
          {(['csv', 'xlsx'] as const).map((extension) => (
            <button
              key={extension}
              type="button"
              disabled={exporting.busy}
              onClick={() =>
                void exporting.run(async () => {
                  await download(
                    `/v1/valuation/export.${extension}${query({ as_of: asOf })}`,
                    `valuation.${extension}`,
                  );
                  return `${extension.toUpperCase()} file downloaded.`;
                })
              }
            >
              {extension === 'csv' ? 'CSV' : 'Excel'}
            </button>
          ))}
        </div>
        {exporting.feedback}
      </form>
      <ProblemView problem={report.problem} />
      {valuation && (
        <DataTable caption={`Valuation as of ${new Date(valuation.as_of).toLocaleString()} (${valuation.currency})`}>
          <TableHead
            columns={[
              GROUP_LABELS[valuation.group_by],
              ['Levels', 'num'],
              ['On hand', 'num'],
              ['Uncosted', 'num'],
              ['Average cost', 'num'],
              ['Value', 'num'],
            ]}
          />
          <tbody id="valuation-groups">
            {valuation.groups.map((group) => (
              <tr key={group.key ?? ''} data-key={group.key ?? ''}>
                <th scope="row">{group.key ?? <span class="muted">none</span>}</th>
                <ValuedCells valued={group} currency={valuation.currency} />
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-key="total">
              <th scope="row">Total</th>
              <ValuedCells valued={valuation.total} currency={valuation.currency} />
            </tr>
          </tfoot>
        </DataTable>
      )}
    </>
  );
}

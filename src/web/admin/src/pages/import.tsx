import { useState } from 'preact/hooks';
import { ApiProblem, api, get } from '../api.js';
import type { StockOfSku, Warehouse } from '../api.js';
import { DataTable, ProblemView, Title, useAction, useLoad, TableHead } from '../ui.js';

/** SKUs looked up for the preview; a larger file's other SKUs are checked by the server when it is applied. */
const MAX_LOOKUPS = 500;

/** One row of the file as the preview sees it: what it will set, or what is wrong with it. */
interface PreviewRow {
  line: number;
  sku: string;
  warehouse: string;
  onHand: string;
  current: number | null;
  errors: string[];
}

/** Splits CSV text into records (quoted fields, doubled quotes, CRLF), as the server's parser reads it. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let value = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        value += '"';
        i++;
      } else if (char === '"') quoted = false;
      else value += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(value);
      value = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      record.push(value);
      records.push(record);
      record = [];
      value = '';
    } else value += char;
  }
  if (value !== '' || record.length > 0) {
    record.push(value);
    records.push(record);
  }
  return records;
}

async function preview(text: string, warehouses: Set<string>): Promise<{ rows: PreviewRow[]; fileErrors: string[] }> {
  const [header = [], ...records] = parseCsv(text.replace(/^\uFEFF/, ''));
  const names = header.map((name) => name.trim().toLowerCase());
  const column = (name: string) => names.indexOf(name);
  const missing = ['sku', 'warehouse', 'on_hand'].filter((name) => column(name) < 0);
  if (missing.length > 0) return { rows: [], fileErrors: [`the header lacks ${missing.join(', ')}`] };
  const seen = new Map<string, number>();
  const rows: PreviewRow[] = records
    .map((record, i) => ({ record, line: i + 2 }))
    .filter(({ record }) => !(record.length === 1 && record[0]?.trim() === ''))
    .map(({ record, line }) => {
      const sku = (record[column('sku')] ?? '').trim();
      const warehouse = (record[column('warehouse')] ?? '').trim();
      const onHand = (record[column('on_hand')] ?? '').trim();
      const errors: string[] = [];
      if (!sku) errors.push('sku is empty');
      if (!warehouse) errors.push('warehouse is empty');
      else if (!warehouses.has(warehouse)) errors.push(`unknown warehouse ${warehouse}`);
      if (!/^\d+$/.test(onHand)) errors.push('on_hand must be a whole number, 0 or more');
      const key = `${sku}\n${warehouse}`;
      const first = seen.get(key);
      if (first !== undefined) errors.push(`the same SKU and warehouse as line ${String(first)}`);
      else seen.set(key, line);
      return { line, sku, warehouse, onHand, current: null, errors };
    });
  const skus = [...new Set(rows.map((row) => row.sku).filter(Boolean))];
  const stock = new Map<string, StockOfSku | null>();
  // a few at a time: a preview must not crowd out the server's other callers
  const lookups = skus.slice(0, MAX_LOOKUPS);
  for (let from = 0; from < lookups.length; from += 8) {
    await Promise.all(
      lookups.slice(from, from + 8).map(async (sku) => {
        try {
          stock.set(sku, await get<StockOfSku>(`/v1/stock/${encodeURIComponent(sku)}`));
        } catch (error) {
          if (error instanceof ApiProblem && error.problem.status === 404) stock.set(sku, null);
          else throw error;
        }
      }),
    );
  }
  for (const row of rows) {
    const found = stock.get(row.sku);
    if (found === null) row.errors.push(`unknown SKU ${row.sku}`);
    else if (found) row.current = found.warehouses.find((level) => level.warehouse === row.warehouse)?.on_hand ?? 0;
  }
  const fileErrors =
    skus.length > MAX_LOOKUPS
      ? [`only the first ${String(MAX_LOOKUPS)} SKUs were looked up; the server checks the rest when applying`]
      : [];
  return { rows, fileErrors };
}

/** CSV stock import: every row's error shown before anything is applied; applied all or nothing. */
export function ImportPage() {
  const warehouses = useLoad(() => get<{ items: Warehouse[] }>('/v1/warehouses'), []);
  const [text, setText] = useState<string | null>(null);
  const [result, setResult] = useState<{ rows: PreviewRow[]; fileErrors: string[] } | null>(null);
  const reading = useAction();
  const applying = useAction();
  const errors = result ? result.rows.filter((row) => row.errors.length > 0).length : 0;
  const changes = result
    ? result.rows.filter((row) => row.errors.length === 0 && row.current !== null && String(row.current) !== row.onHand)
    : [];

  return (
    <>
      <Title>Import stock</Title>
      <form
        class="card"
        aria-label="Upload"
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <p class="muted" style={{ marginTop: 0 }}>
          A CSV with the columns <code>sku,warehouse,on_hand</code> sets each level's on hand (as a cycle count, in the
          ledger). Nothing is applied until the preview has no errors and you apply it; then all rows or none.
        </p>
        <label>
          CSV file
          <input
            type="file"
            name="file"
            accept=".csv,text/csv"
            onChange={(event) => {
              const file = event.currentTarget.files?.[0];
              setResult(null);
              setText(null);
              applying.clear();
              if (!file) return;
              void reading.run(async () => {
                const content = await file.text();
                setText(content);
                setResult(
                  await preview(content, new Set(warehouses.value?.items.map((warehouse) => warehouse.code) ?? [])),
                );
                return null;
              });
            }}
          />
        </label>
        {reading.feedback}
      </form>
      {result && (
        <>
          <p role="status" id="import-summary">
            {result.rows.length} rows; {errors} with errors; {changes.length}{' '}
            {changes.length === 1 ? 'level' : 'levels'} would change.
          </p>
          {result.fileErrors.map((message) => (
            <div class="problem" role="alert" key={message}>
              {message}
            </div>
          ))}
          <DataTable caption="Preview of the import" id="import-preview">
            <TableHead
              columns={['Line', 'SKU', 'Warehouse', 'Errors', ['On hand now', 'num'], ['New on hand', 'num']]}
            />
            <tbody>
              {result.rows.map((row) => (
                <tr key={row.line} data-line={row.line} class={row.errors.length ? 'has-error' : undefined}>
                  <td>{row.line}</td>
                  <td>{row.sku}</td>
                  <td>{row.warehouse}</td>
                  {/* before the numbers: on a phone the table scrolls sideways, and the errors are what matter */}
                  <td data-errors style={{ color: 'var(--bad)', whiteSpace: 'normal', minWidth: '12em' }}>
                    {row.errors.join('; ')}
                  </td>
                  <td class="num">{row.current ?? '—'}</td>
                  <td class="num">{row.onHand}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
          <div class="actions">
            <button
              type="button"
              class="primary"
              id="apply-import"
              disabled={errors > 0 || result.rows.length === 0 || applying.busy || text === null}
              onClick={() =>
                void applying.run(async () => {
                  const done = await api<{ rows: number; changed: number }>('POST', '/v1/import/stock', {
                    text: { content: text ?? '', type: 'text/csv' },
                    idempotent: true,
                  });
                  return `Imported ${String(done.rows)} rows; ${String(done.changed)} levels changed.`;
                })
              }
            >
              Apply import
            </button>
            {errors > 0 && <span class="muted">Fix the {errors} rows with errors first.</span>}
          </div>
          {applying.feedback}
        </>
      )}
      <ProblemView problem={warehouses.problem} />
    </>
  );
}

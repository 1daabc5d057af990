import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { ImportPreview } from '../api.js';
import { ConfirmButton, DataTable, TableHead, Title, useAction } from '../ui.js';

const plural = (count: number, one: string, many = `${one}s`): string => `${String(count)} ${count === 1 ? one : many}`;

/**
 * CSV stock import: the server's dry run (POST /v1/import/stock/preview) checks every row as the import would and
 * names each problem by line, changing nothing; the import is applied, all rows or none, only once it has none and
 * the person confirms.
 */
export function ImportPage() {
  const [text, setText] = useState<string | null>(null);
  const [result, setResult] = useState<ImportPreview | null>(null);
  const reading = useAction();
  const applying = useAction();

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
          ledger). The server checks every row first and changes nothing; you apply the import once the preview has no
          errors, and then all rows apply or none.
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
                const preview = await api<ImportPreview>('POST', '/v1/import/stock/preview', {
                  text: { content, type: 'text/csv' },
                });
                setText(content);
                setResult(preview);
                return null;
              });
            }}
          />
        </label>
        {reading.busy && <p role="status">Checking every row…</p>}
        {reading.feedback}
      </form>
      {result && (
        <>
          <p role="status" id="import-summary">
            {plural(result.rows, 'row')}; {plural(result.error_count, 'error')}; {plural(result.changed, 'level')} would
            change.
          </p>
          {result.error_count > result.errors.length && (
            <p class="muted">
              The first {result.errors.length} of {result.error_count} errors are listed.
            </p>
          )}
          {result.errors.length > 0 && (
            <DataTable caption="Errors of the import, by line" id="import-errors">
              <TableHead columns={[['Line', 'num'], 'Field', 'Error']} />
              <tbody>
                {result.errors.map((error) => (
                  <tr key={`${error.path}:${error.message}`} data-line={error.line ?? undefined} class="has-error">
                    <td class="num">{error.line ?? '—'}</td>
                    <td>
                      <code>{error.path.replace(/^\/line\/\d+\/?/, '') || 'row'}</code>
                    </td>
                    <td data-errors style={{ whiteSpace: 'normal', minWidth: '12em' }}>
                      {error.message}
                    </td>
                  </tr>
                ))}
              </tbody>
            </DataTable>
          )}
          {result.shortfalls.length > 0 && (
            <div class="card" id="import-shortfalls">
              <h2>Orders left short</h2>
              <ul>
                {result.shortfalls.map((level) => (
                  <li key={`${level.sku}@${level.warehouse}`}>
                    {level.sku} at {level.warehouse}: {level.shortfall} reserved units would not be on hand
                  </li>
                ))}
              </ul>
            </div>
          )}
          {result.changes.length > 0 && (
            <DataTable caption="Levels the import would change" id="import-preview">
              <TableHead columns={['SKU', 'Warehouse', ['On hand now', 'num'], ['New on hand', 'num']]} />
              <tbody>
                {result.changes.map((change) => (
                  <tr key={`${change.sku}@${change.warehouse}`} data-level={`${change.sku}@${change.warehouse}`}>
                    <td>{change.sku}</td>
                    <td>{change.warehouse}</td>
                    <td class="num">{change.on_hand_before}</td>
                    <td class="num">{change.on_hand}</td>
                  </tr>
                ))}
              </tbody>
            </DataTable>
          )}
          {result.changed > result.changes.length && (
            <p class="muted">
              The first {result.changes.length} of {result.changed} changes are listed.
            </p>
          )}
          <div class="actions">
            <ConfirmButton
              label="Apply import"
              question={`Set on hand for ${plural(result.rows, 'row')}, changing ${plural(result.changed, 'level')}?`}
              disabled={result.error_count > 0 || result.rows === 0 || applying.busy || text === null}
              onConfirm={() =>
                applying.run(async () => {
                  const done = await api<{ rows: number; changed: number }>('POST', '/v1/import/stock', {
                    text: { content: text ?? '', type: 'text/csv' },
                    idempotent: true,
                  });
                  setResult(null);
                  return `Imported ${plural(done.rows, 'row')}; ${plural(done.changed, 'level')} changed.`;
                })
              }
            />
            {result.error_count > 0 && (
              <span class="muted">Fix the {plural(result.error_count, 'error')} first; nothing was applied.</span>
            )}
          </div>
        </>
      )}
      {applying.feedback}
    </>
  );
}

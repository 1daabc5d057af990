import { useState } from 'preact/hooks';
import { API_ROOT, api, send } from '../api.js';
import { ConfirmButton, DataTable, ProblemView, Title, useAction, useCan, useLoad, TableHead } from '../ui.js';

interface Health {
  status: string;
  database: string;
}

interface Report {
  clean: boolean;
  levels: number;
  movements: number;
  drift: {
    sku: string;
    warehouse: string;
    on_hand: number;
    ledger_on_hand: number;
    reserved: number;
    ledger_reserved: number;
  }[];
  holds: { sku: string; warehouse: string; reserved: number; held: number }[];
}

/** The value of one Prometheus sample in the text format (the sum of its series when labels are not given). */
export function metric(text: string, name: string, labels = ''): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels && !rest.includes(labels)) continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (!Number.isNaN(value)) total = (total ?? 0) + value;
  }
  return total;
}

/** The database, the cache, the sweeper and the delivery queue, and the ledger check. */
export function HealthPage() {
  const can = useCan();
  const health = useLoad(async () => {
    // 503 is an answer here: the database is away
    const response = await fetch(`${API_ROOT}/healthz`);
    return (await response.json()) as Health;
  }, []);
  const metrics = useLoad(
    async () => (can('metrics') ? (await send('GET', '/metrics')).text() : Promise.resolve('')),
    [],
  );
  const [report, setReport] = useState<Report | null>(null);
  const reconcile = useAction();
  const text = metrics.value ?? '';
  const number = (value: number | null, unit = '') => (value === null ? 'not reported' : `${String(value)}${unit}`);
  const hits = metric(text, 'stockroom_availability_cache_hits_total');
  const misses = metric(text, 'stockroom_availability_cache_misses_total');

  return (
    <>
      <Title>Health</Title>
      <section class="card" aria-labelledby="state">
        <h2 id="state" style={{ marginTop: 0 }}>
          State
        </h2>
        <ProblemView problem={health.problem} />
        <ProblemView problem={metrics.problem} />
        <dl class="kv" id="health">
          <dt>Database</dt>
          <dd data-health="database">
            {health.value ? `${health.value.status} (${health.value.database})` : 'checking…'}
          </dd>
          <dt>Availability cache</dt>
          <dd data-health="cache">
            {hits === null && misses === null
              ? 'off (or not reported)'
              : `${String(hits ?? 0)} hits, ${String(misses ?? 0)} misses`}
          </dd>
          <dt>Sweeper lag</dt>
          <dd data-health="sweeper">{number(metric(text, 'stockroom_sweeper_lag_seconds'), ' s')}</dd>
          <dt>Deliveries pending</dt>
          <dd>{number(metric(text, 'stockroom_deliveries', 'status="pending"'))}</dd>
          <dt>Dead letters</dt>
          <dd>{number(metric(text, 'stockroom_deliveries', 'status="dead"'))}</dd>
          <dt>Outbox not yet dispatched</dt>
          <dd>{number(metric(text, 'stockroom_outbox_undispatched'))}</dd>
          <dt>Open availability streams</dt>
          <dd>{number(metric(text, 'stockroom_availability_streams_open'))}</dd>
        </dl>
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              void health.reload();
              void metrics.reload();
            }}
          >
            Check again
          </button>
        </div>
      </section>
      <section class="card" aria-labelledby="ledger-check">
        <h2 id="ledger-check" style={{ marginTop: 0 }}>
          Ledger check
        </h2>
        <p class="muted">Replays the whole ledger against every level and lists any that drifted.</p>
        <ConfirmButton
          label="Reconcile"
          question="Replay the whole ledger now?"
          disabled={!can('admin') || reconcile.busy}
          onConfirm={() =>
            reconcile.run(async () => {
              const found = await api<Report>('POST', '/v1/admin/reconcile');
              setReport(found);
              return found.clean
                ? `Clean: ${String(found.levels)} levels match ${String(found.movements)} movements.`
                : `Drift found in ${String(found.drift.length + found.holds.length)} levels.`;
            })
          }
        />
        {!can('admin') && <span class="muted"> (needs a key with scope admin)</span>}
        {reconcile.feedback}
        {report && report.drift.length > 0 && (
          <DataTable caption="Drifted levels">
            <TableHead columns={['SKU', 'Warehouse', ['On hand', 'num'], ['Ledger', 'num']]} />
            <tbody>
              {report.drift.map((row) => (
                <tr key={`${row.sku}@${row.warehouse}`}>
                  <td>{row.sku}</td>
                  <td>{row.warehouse}</td>
                  <td class="num">{row.on_hand}</td>
                  <td class="num">{row.ledger_on_hand}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        )}
      </section>
    </>
  );
}

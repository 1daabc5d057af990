import { api, get } from '../api.js';
import {
  ConfirmButton,
  DataTable,
  Link,
  ProblemView,
  TableHead,
  Title,
  field,
  useAction,
  useCan,
  useLoad,
} from '../ui.js';

interface Kit {
  sku: string;
  components: { sku: string; qty: number }[];
}

interface Shown {
  sku: string;
  available: number;
  label: string;
}

/** "MUG:2, COFFEE:1" as components; null when a part is not SKU:QTY with a positive whole QTY. */
function componentsOf(text: string): { sku: string; qty: number }[] | null {
  const parts = text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const components = parts.map((part) => /^(\S+)\s*:\s*(\d+)$/.exec(part));
  if (components.length === 0 || components.some((match) => !match)) return null;
  return components.map((match) => ({ sku: match?.[1] ?? '', qty: Number(match?.[2]) }));
}

/** Kits: SKUs sold as a set of components, what their components make available now, and defining them. */
export function KitsPage() {
  const can = useCan();
  const admin = can('admin');
  const kits = useLoad(() => get<{ items: Kit[] }>('/v1/kits'), []);
  const skus = kits.value?.items.map((kit) => kit.sku) ?? [];
  const shown = useLoad(
    () =>
      skus.length === 0
        ? Promise.resolve({ items: [] as Shown[] })
        : get<{ items: Shown[] }>(`/v1/availability?${skus.map((sku) => `sku=${encodeURIComponent(sku)}`).join('&')}`),
    [skus.join(',')],
  );
  const action = useAction();
  const refresh = () => {
    void kits.reload();
  };
  return (
    <>
      <Title>Kits</Title>
      {action.feedback}
      <ProblemView problem={kits.problem ?? shown.problem} />
      <DataTable caption="Kits" id="kits">
        <TableHead columns={['Kit', 'Components', ['Available', 'num'], 'Shown as', ...(admin ? ['Actions'] : [])]} />
        <tbody>
          {kits.value?.items.map((kit) => {
            const item = shown.value?.items.find((one) => one.sku === kit.sku);
            return (
              <tr key={kit.sku}>
                <td>
                  <Link to={`/variants/${encodeURIComponent(kit.sku)}`}>{kit.sku}</Link>
                </td>
                <td>
                  {kit.components.map((component, i) => (
                    <span key={component.sku}>
                      {i > 0 && ', '}
                      {component.qty} ×{' '}
                      <Link to={`/variants/${encodeURIComponent(component.sku)}`}>{component.sku}</Link>
                    </span>
                  ))}
                </td>
                <td class="num">{item?.available ?? '—'}</td>
                <td>{item?.label ?? '—'}</td>
                {admin && (
                  <td>
                    <ConfirmButton
                      label="Make plain"
                      question={`Make ${kit.sku} a plain variant again?`}
                      onConfirm={() =>
                        action
                          .run(async () => {
                            await api('DELETE', `/v1/kits/${encodeURIComponent(kit.sku)}`, { idempotent: true });
                            return `${kit.sku} is no longer a kit.`;
                          })
                          .then(refresh)
                      }
                    />
                  </td>
                )}
              </tr>
            );
          })}
          {kits.value?.items.length === 0 && (
            <tr>
              <td colSpan={admin ? 5 : 4}>No kits yet.</td>
            </tr>
          )}
        </tbody>
      </DataTable>
      {admin && (
        <form
          class="card"
          aria-labelledby="define-kit"
          style={{ marginTop: '14px' }}
          onSubmit={(event) => {
            event.preventDefault();
            const form = event.currentTarget;
            const sku = field(form, 'sku');
            const components = componentsOf(field(form, 'components'));
            void action
              .run(async () => {
                if (!components) throw new Error('Give the components as SKU:QTY, separated by commas.');
                await api('PUT', `/v1/kits/${encodeURIComponent(sku)}`, { body: { components }, idempotent: true });
                return `${sku} is a kit of ${components.map((component) => `${component.qty} × ${component.sku}`).join(', ')}.`;
              })
              .then(refresh);
          }}
        >
          <h2 id="define-kit" style={{ marginTop: 0 }}>
            Define a kit
          </h2>
          <div class="row">
            <label>
              Kit SKU (an existing variant that holds no stock)
              <input name="sku" required />
            </label>
            <label>
              Components (SKU:QTY, comma separated)
              <input name="components" required placeholder="MUG:2, COFFEE-250:1" />
            </label>
          </div>
          <div class="actions">
            <button type="submit" class="primary" disabled={action.busy}>
              Define
            </button>
          </div>
        </form>
      )}
    </>
  );
}

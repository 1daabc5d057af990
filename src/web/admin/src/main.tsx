import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, keepKey, storedKey, whenUnauthorized } from './api.js';
import type { Me, Problem } from './api.js';
import { AlertsPage } from './pages/alerts.js';
import { HealthPage } from './pages/health.js';
import { ImportPage } from './pages/import.js';
import { LocationsPage } from './pages/locations.js';
import { KitsPage } from './pages/kits.js';
import { PurchasingPage } from './pages/purchasing.js';
import { ReservationsPage } from './pages/reservations.js';
import { StockPage } from './pages/stock.js';
import { ValuationPage } from './pages/valuation.js';
import { VariantPage } from './pages/variant.js';
import { navigate, useRoute } from './router.js';
import { KeyName, Link, MeContext, ProblemView, problemOf } from './ui.js';

/** The pages in the menu, each with the scopes of which the key needs one to open it. */
const PAGES = [
  { path: '/stock', label: 'Stock', scopes: ['warehouse'] },
  { path: '/reservations', label: 'Reservations', scopes: ['checkout'] },
  { path: '/purchasing', label: 'Purchasing', scopes: ['warehouse'] },
  { path: '/floor', label: 'Floor', scopes: ['warehouse'] },
  { path: '/kits', label: 'Kits', scopes: ['warehouse', 'checkout'] },
  { path: '/alerts', label: 'Alerts', scopes: [] },
  { path: '/import', label: 'Import', scopes: ['warehouse'] },
  { path: '/valuation', label: 'Valuation', scopes: [] },
  { path: '/health', label: 'Health', scopes: ['metrics'] },
] as const;

const allows = (me: Me, scopes: readonly string[]) =>
  me.scopes.includes('admin') || scopes.some((scope) => me.scopes.includes(scope));

function SignIn({ onSignedIn, problem }: { onSignedIn: (me: Me, key: string) => void; problem: Problem | null }) {
  const [refusal, setRefusal] = useState<Problem | null>(problem);
  const [busy, setBusy] = useState(false);
  const keyField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · stockroom admin';
    // the page's one field: focused at once (the autofocus attribute is not applied to what a script adds later)
    keyField.current?.focus();
  }, []);
  return (
    <main id="main">
      <form
        class="card signin"
        onSubmit={(event) => {
          event.preventDefault();
          const key = (event.currentTarget.elements.namedItem('key') as HTMLInputElement).value.trim();
          setBusy(true);
          api<Me>('GET', '/v1/keys/me', { key })
            .then((me) => {
              onSignedIn(me, key);
            })
            .catch((error: unknown) => {
              setRefusal(problemOf(error));
            })
            .finally(() => {
              setBusy(false);
            });
        }}
      >
        <h1>stockroom admin</h1>
        <p class="muted">
          Sign in with an API key. It is kept in this tab only (session storage) and sent as a header, never in a URL.
        </p>
        <label>
          API key
          <input ref={keyField} name="key" type="password" autocomplete="current-password" required />
        </label>
        <ProblemView problem={refusal} />
        <div class="actions">
          <button class="primary" type="submit" disabled={busy}>
            Sign in
          </button>
        </div>
      </form>
    </main>
  );
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const route = useRoute();
  const pages = PAGES.filter((page) =>
    page.scopes.length === 0 ? me.scopes.includes('admin') : allows(me, page.scopes),
  );
  const first = pages[0]?.path;
  useEffect(() => {
    if (route.path === '/' && first) navigate(first, { replace: true });
  }, [route.path, first]);
  const variant = /^\/variants\/(.+)$/.exec(route.path);
  let page;
  if (variant?.[1]) page = <VariantPage sku={decodeURIComponent(variant[1])} />;
  else if (route.path === '/stock') page = <StockPage query={route.query} />;
  else if (route.path === '/reservations') page = <ReservationsPage query={route.query} />;
  else if (route.path === '/purchasing') page = <PurchasingPage />;
  else if (route.path === '/floor') page = <LocationsPage query={route.query} />;
  else if (route.path === '/kits') page = <KitsPage />;
  else if (route.path === '/alerts') page = <AlertsPage />;
  else if (route.path === '/import') page = <ImportPage />;
  else if (route.path === '/valuation') page = <ValuationPage query={route.query} />;
  else if (route.path === '/health') page = <HealthPage />;
  else if (route.path === '/') page = pages.length === 0 ? <p>This key may open none of the console's pages.</p> : null;
  else page = <ProblemView problem={{ title: 'No such page', status: 404, detail: route.path }} />;
  return (
    <MeContext.Provider value={me}>
      <header class="top">
        <span class="brand">stockroom</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((entry) => (
              <li key={entry.path}>
                <Link to={entry.path} current={route.path.startsWith(entry.path)}>
                  {entry.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            <KeyName name={me.name} /> <span aria-label="scopes">({me.scopes.join(', ')})</span>
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">{page}</main>
    </MeContext.Provider>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  const [problem, setProblem] = useState<Problem | null>(null);
  useEffect(() => {
    whenUnauthorized(() => {
      keepKey(null);
      setMe(null);
      setProblem({ title: 'Signed out', status: 401, detail: 'The key is no longer valid (revoked?): sign in again.' });
    });
    const key = storedKey();
    if (!key) return;
    api<Me>('GET', '/v1/keys/me')
      .then(setMe)
      .catch((error: unknown) => {
        keepKey(null);
        setProblem(problemOf(error));
      })
      .finally(() => {
        setChecking(false);
      });
  }, []);
  if (checking) return <p role="status">Signing in…</p>;
  if (!me)
    return (
      <SignIn
        problem={problem}
        onSignedIn={(signedIn, key) => {
          keepKey(key);
          setProblem(null);
          setMe(signedIn);
        }}
      />
    );
  return (
    <Shell
      me={me}
      onSignOut={() => {
        keepKey(null);
        setMe(null);
        navigate('/', { replace: true });
      }}
    />
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);

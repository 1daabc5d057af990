import { useEffect, useState } from 'preact/hooks';
import { API_ROOT } from './api.js';

/** Where the console's pages are: /admin, or under the prefix the API is mounted at. */
export const BASE = `${API_ROOT}/admin`;

/** The page shown: its path below /admin ("/stock", "/variants/TEE-M") and its query (the filters). */
export interface Route {
  path: string;
  query: URLSearchParams;
}

const current = (): Route => ({
  path: location.pathname.slice(BASE.length) || '/',
  query: new URLSearchParams(location.search),
});

const listeners = new Set<() => void>();

/** Goes to a page of the console without a reload; `replace` for a filter change (no history entry per keystroke). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const listener of listeners) listener();
  if (!options.replace) window.scrollTo(0, 0);
}

/** The current route, following navigation and the back button. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => {
      setRoute(current());
    };
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { API_ROOT } from './api.js';

/**
 * How often a shown page reads its counts again for what the availability stream does not announce: a commit (held
 * units move from pending to committed, available stays) and incoming units (purchase orders drafted, sent or
 * confirmed). Announcing those would cost every checkout's commit a notification; a page shown now can ask instead.
 */
const REREAD_MS = 10_000;

/**
 * Follows the shown SKUs on the public availability stream (Server-Sent Events) and reads the page again when one
 * of them changes. The stream opens with where each SKU stands; that first burst is read as a change too, so a
 * change made between the page's first read and the stream's opening is not missed. True once the stream is live.
 * While the tab is shown the page is also read every REREAD_MS, and at once when the tab is shown again.
 */
export function useLiveCounts(skus: string[], onChange: () => void): boolean {
  const key = [...new Set(skus)].slice(0, 100).sort().join('\n');
  const changed = useRef(onChange);
  changed.current = onChange;
  const [live, setLive] = useState(false);
  useEffect(() => {
    setLive(false);
    if (!key) return;
    const watched = key.split('\n');
    const stream = new EventSource(
      `${API_ROOT}/v1/availability/stream?${watched.map((sku) => `sku=${encodeURIComponent(sku)}`).join('&')}`,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    stream.addEventListener('availability', () => {
      setLive(true);
      // a burst of changes is one read
      clearTimeout(timer);
      timer = setTimeout(() => {
        changed.current();
      }, 100);
    });
    stream.addEventListener('error', () => {
      setLive(false);
    });
    const reread = setInterval(() => {
      if (document.visibilityState === 'visible') changed.current();
    }, REREAD_MS);
    const shown = () => {
      if (document.visibilityState === 'visible') changed.current();
    };
    document.addEventListener('visibilitychange', shown);
    return () => {
      clearTimeout(timer);
      clearInterval(reread);
      document.removeEventListener('visibilitychange', shown);
      stream.close();
    };
  }, [key]);
  return live;
}

/** Says whether the counts on the page follow changes live. */
export function LiveBadge({ live }: { live: boolean }) {
  return (
    <span class={`badge ${live ? 'in_stock' : ''}`} role="status" aria-live="polite">
      {live ? '● Live' : 'Connecting…'}
    </span>
  );
}

import { afterEach } from 'vitest';
import { DeliveryWorker } from '../../src/infra/delivery-worker.js';
import type { DeliveryOptions } from '../../src/infra/delivery-worker.js';
import type { Harness } from './harness.js';
import { httpReceiver } from './receivers.js';
import type { HttpReceiver } from './receivers.js';

/**
 * Delivery workers and webhook receivers for the tests of one harness, each stopped or closed after its test (in
 * the reverse order they were made), and every channel the test added removed: quick workers (polling every 20 ms,
 * retrying after 20 ms, a try given 2 s) unless a test says otherwise.
 */
export function useDelivery(h: Harness): {
  /** more to stop or close after the test (a receiver of another kind, a worker made by hand) */
  closers: (() => Promise<void>)[];
  worker: (options?: DeliveryOptions) => DeliveryWorker;
  openReceiver: () => Promise<HttpReceiver>;
} {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    for (const c of (await h.s.channels.list()).items) await h.s.channels.remove(c.id);
  });
  return {
    closers,
    worker: (options = {}) => {
      const w = new DeliveryWorker(h.s.db, { pollMs: 20, backoffMs: 20, timeoutMs: 2000, ...options });
      closers.push(() => w.stop());
      return w;
    },
    openReceiver: async () => {
      const receiver = await httpReceiver();
      closers.push(() => receiver.close());
      return receiver;
    },
  };
}

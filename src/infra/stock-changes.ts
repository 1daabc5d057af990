import { parseStockChange } from '../domain/stock-change.js';
import type { StockChange } from '../domain/stock-change.js';
import type { Db } from '../store/db.js';

/** The channel the database announces committed stock changes on (migration 0005). */
const STOCK_CHANNEL = 'stockroom_stock';

/**
 * Follows the database's announcements of committed stock changes, whichever process made them, and hands
 * each to every subscriber: what caches are invalidated by and live streams are fed from. A change that rolls
 * back is never announced. After a lost connection, subscribers hear "anything may have changed".
 */
export class StockChanges {
  private constructor(
    private readonly stop: () => Promise<void>,
    private readonly subscribers: Set<(change: StockChange) => void>,
  ) {}

  /** Starts listening on the database's channel; resolves once announcements are being heard. */
  static async follow(db: Db): Promise<StockChanges> {
    const subscribers = new Set<(change: StockChange) => void>();
    const deliver = (change: StockChange): void => {
      for (const subscriber of subscribers) subscriber(change);
    };
    const stop = await db.listen(
      STOCK_CHANNEL,
      (payload) => {
        deliver(parseStockChange(payload));
      },
      () => {
        deliver({ all: true });
      },
    );
    return new StockChanges(stop, subscribers);
  }

  /** Hands every change from now on to `subscriber`; returns the function that unsubscribes it. */
  subscribe(subscriber: (change: StockChange) => void): () => void {
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  /** Stops listening; subscribers hear nothing more. */
  close(): Promise<void> {
    this.subscribers.clear();
    return this.stop();
  }
}

import { randomBytes } from 'node:crypto';
import type { StockChange } from '../domain/stock-change.js';
import type { AvailabilityItem, AvailabilityService } from './availability.js';
import { MAX_AVAILABILITY_SKUS } from './schemas.js';

/** One change a shopper's page is told of; the id lets a reconnecting stream resume after it. */
export interface AvailabilityEvent {
  id: string;
  item: AvailabilityItem;
}

type Listener = (event: AvailabilityEvent) => void;

const same = (before: AvailabilityItem, after: AvailabilityItem): boolean =>
  before.status === after.status && before.available === after.available && before.label === after.label;

/**
 * Live availability for open streams. It follows the database's announcements of committed changes and, for
 * the SKUs someone watches, tells them only when the status, count or label changed. Event ids are this
 * process's own (a run prefix and a sequence); the last `keep` events are kept, so a stream that reconnects with
 * the id it saw last gets what it missed, and one whose id is unknown (older, or another process's) gets the
 * current state of every SKU it watches.
 */
export class AvailabilityFeed {
  private readonly run = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly watchers = new Map<string, Set<Listener>>();
  /** what watchers of a SKU were last told */
  private readonly told = new Map<string, AvailabilityItem>();
  /** since which sequence number a SKU has been followed without a break (changes of others are not kept) */
  private readonly followedFrom = new Map<string, number>();
  private readonly recent: { seq: number; event: AvailabilityEvent }[] = [];
  /** changes are looked at one after another, so events go out in order */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly availability: AvailabilityService,
    private readonly keep = 10_000,
  ) {}

  /** Feed it every announced change (StockChanges.subscribe). */
  onChange(change: StockChange): void {
    const skus = 'all' in change ? [...this.watchers.keys()] : change.skus.filter((sku) => this.watchers.has(sku));
    if (skus.length === 0) return;
    this.queue = this.queue.then(() => this.retell(skus)).catch(() => undefined);
  }

  /**
   * Starts telling `listener` of changes of these SKUs, and says what to send first: what was missed since
   * `lastEventId`, or else the current state of each. Unknown SKUs refuse the call, as availability does.
   */
  async watch(
    skus: readonly string[],
    listener: Listener,
    lastEventId?: string,
  ): Promise<{ first: AvailabilityEvent[]; stop: () => void }> {
    const wanted = [...new Set(skus)];
    // listening before reading: a change in between is told twice at worst, never missed
    for (const sku of wanted) {
      let set = this.watchers.get(sku);
      if (!set) {
        this.watchers.set(sku, (set = new Set()));
        // a mark in the sequence: a stream that saw an id before it cannot have heard this SKU's changes since
        this.followedFrom.set(sku, ++this.seq);
      }
      set.add(listener);
    }
    const stop = (): void => {
      for (const sku of wanted) {
        const set = this.watchers.get(sku);
        set?.delete(listener);
        if (set?.size === 0) {
          this.watchers.delete(sku);
          this.told.delete(sku);
          this.followedFrom.delete(sku);
        }
      }
    };
    try {
      const { replay, fresh } = this.since(lastEventId, wanted);
      const { items } = fresh.length > 0 ? await this.availability.get({ sku: fresh }) : { items: [] };
      for (const item of items) if (!this.told.has(item.sku)) this.told.set(item.sku, item);
      return { first: [...replay, ...items.map((item) => ({ id: this.idOf(this.seq), item }))], stop };
    } catch (error) {
      stop();
      throw error;
    }
  }

  /**
   * What a stream that saw `lastEventId` last needs: the kept events after it of the SKUs followed without a
   * break since then, and the current state (`fresh`) of the others; all fresh when the id is not one of ours
   * any more (another process's, or older than what is kept).
   */
  private since(
    lastEventId: string | undefined,
    skus: readonly string[],
  ): { replay: AvailabilityEvent[]; fresh: string[] } {
    const [run, seqText] = lastEventId?.split('-') ?? [];
    const seq = Number(seqText);
    const oldest = this.recent[0]?.seq ?? this.seq + 1;
    // every event after seq must still be kept
    if (run !== this.run || !Number.isInteger(seq) || seq > this.seq || seq + 1 < oldest)
      return { replay: [], fresh: [...skus] };
    const followed = new Set(skus.filter((sku) => (this.followedFrom.get(sku) ?? Infinity) <= seq));
    return {
      replay: this.recent
        .filter((kept) => kept.seq > seq && followed.has(kept.event.item.sku))
        .map((kept) => kept.event),
      fresh: skus.filter((sku) => !followed.has(sku)),
    };
  }

  private idOf(seq: number): string {
    return `${this.run}-${seq}`;
  }

  private async retell(skus: readonly string[]): Promise<void> {
    for (let i = 0; i < skus.length; i += MAX_AVAILABILITY_SKUS) {
      const { items } = await this.availability.get({ sku: skus.slice(i, i + MAX_AVAILABILITY_SKUS) });
      for (const item of items) {
        const before = this.told.get(item.sku);
        if (before && same(before, item)) continue;
        this.told.set(item.sku, item);
        const event = { id: this.idOf(++this.seq), item };
        this.recent.push({ seq: this.seq, event });
        if (this.recent.length > this.keep) this.recent.shift();
        for (const listener of this.watchers.get(item.sku) ?? []) listener(event);
      }
    }
  }
}

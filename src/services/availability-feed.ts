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
 * current state of every SKU it watches. A SKU nobody watches any more is not followed, but what its watchers
 * were told is kept (it is dormant): a stream that left and comes back still gets the kept events it missed, and
 * then, if the SKU changed while nobody watched, one event with its state now.
 */
export class AvailabilityFeed {
  private readonly run = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly watchers = new Map<string, Set<Listener>>();
  /** what watchers of a SKU were last told */
  private readonly told = new Map<string, AvailabilityItem>();
  /**
   * since which sequence number a SKU has been followed without a break (changes of others are not kept); a
   * dormant SKU's gap is bridged when it is watched again, by telling its state then if it changed meanwhile
   */
  private readonly followedFrom = new Map<string, number>();
  /** SKUs nobody watches, with the sequence number when the last watcher left; oldest first, to forget them */
  private readonly dormant = new Map<string, number>();
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
    this.queue = this.queue
      .then(async () => {
        await this.retell(skus);
      })
      .catch(() => undefined);
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
    /** dormant SKUs watched again, with the sequence number when they stopped being followed */
    const woken = new Map<string, number>();
    // listening before reading: a change in between is told twice at worst, never missed
    for (const sku of wanted) {
      let set = this.watchers.get(sku);
      if (!set) {
        this.watchers.set(sku, (set = new Set()));
        const until = this.dormant.get(sku);
        if (until === undefined) {
          // a mark in the sequence: a stream that saw an id before it cannot have heard this SKU's changes since
          this.followedFrom.set(sku, ++this.seq);
        } else {
          this.dormant.delete(sku);
          woken.set(sku, until);
        }
      }
      set.add(listener);
    }
    const stop = (): void => {
      for (const sku of wanted) {
        const set = this.watchers.get(sku);
        set?.delete(listener);
        if (set?.size === 0) {
          this.watchers.delete(sku);
          if (this.told.has(sku)) {
            this.dormant.set(sku, this.seq);
            this.forgetDormant();
          } else {
            this.followedFrom.delete(sku); // never told anything (an unknown SKU, a failed first read)
          }
        }
      }
    };
    try {
      const { replay, fresh } = this.since(lastEventId, wanted, woken);
      // a woken SKU that changed while nobody watched is told now, to every watcher, this one among them (after
      // its replay); one that was not woken for this stream's own id gets its state below instead
      const bridged = woken.size > 0 ? await this.bridge([...woken.keys()]) : new Set<string>();
      const unread = fresh.filter((sku) => !woken.has(sku));
      const { items } =
        unread.length > 0 ? await this.availability.get({ sku: unread }, { primary: true }) : { items: [] };
      for (const item of items) if (!this.told.has(item.sku)) this.told.set(item.sku, item);
      const current = [
        ...fresh.filter((sku) => woken.has(sku) && !bridged.has(sku)).map((sku) => this.told.get(sku)),
        ...items,
      ].filter((item): item is AvailabilityItem => item !== undefined);
      return { first: [...replay, ...current.map((item) => ({ id: this.idOf(this.seq), item }))], stop };
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
    woken: ReadonlyMap<string, number>,
  ): { replay: AvailabilityEvent[]; fresh: string[] } {
    const [run, seqText] = lastEventId?.split('-') ?? [];
    const seq = Number(seqText);
    const oldest = this.recent[0]?.seq ?? this.seq + 1;
    // every event after seq must still be kept
    if (run !== this.run || !Number.isInteger(seq) || seq > this.seq || seq + 1 < oldest)
      return { replay: [], fresh: [...skus] };
    // a woken SKU was not followed after it went dormant: a stream that was watching it saw no id after that
    const followed = new Set(
      skus.filter((sku) => (this.followedFrom.get(sku) ?? Infinity) <= seq && seq <= (woken.get(sku) ?? seq)),
    );
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

  /** Reads dormant SKUs watched again, in turn with the changes. @returns those told anew, having changed meanwhile */
  private async bridge(skus: readonly string[]): Promise<Set<string>> {
    const retold = this.queue.then(() => this.retell(skus));
    this.queue = retold.then(
      () => undefined,
      () => undefined,
    );
    return new Set((await retold).map((event) => event.item.sku));
  }

  /**
   * Forgets dormant SKUs older than every kept event (no stream can resume from before them any more), and the
   * oldest beyond `keep` of them: many SKUs browsed once with few changes must not grow the feed without bound. A
   * forgotten SKU's returning stream gets its current state, as for an unknown id.
   */
  private forgetDormant(): void {
    const oldest = this.recent[0]?.seq ?? this.seq + 1;
    for (const [sku, until] of this.dormant) {
      if (until + 1 >= oldest && this.dormant.size <= this.keep) break;
      this.dormant.delete(sku);
      this.told.delete(sku);
      this.followedFrom.delete(sku);
    }
  }

  private async retell(skus: readonly string[]): Promise<AvailabilityEvent[]> {
    const told: AvailabilityEvent[] = [];
    for (let i = 0; i < skus.length; i += MAX_AVAILABILITY_SKUS) {
      const { items } = await this.availability.get(
        { sku: skus.slice(i, i + MAX_AVAILABILITY_SKUS) },
        // a stream hears only of later changes: it reads the primary, never a replica that may lack one it heard of
        { primary: true },
      );
      for (const item of items) {
        const before = this.told.get(item.sku);
        if (before && same(before, item)) continue;
        this.told.set(item.sku, item);
        const event = { id: this.idOf(++this.seq), item };
        this.recent.push({ seq: this.seq, event });
        if (this.recent.length > this.keep) {
          this.recent.shift();
          this.forgetDormant();
        }
        for (const listener of this.watchers.get(item.sku) ?? []) listener(event);
        told.push(event);
      }
    }
    return told;
  }
}

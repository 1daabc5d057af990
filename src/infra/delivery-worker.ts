import { randomInt } from 'node:crypto';
import { retryDelayMs } from '../domain/backoff.js';
import { open, secretKeyFrom } from '../domain/secret-box.js';
import type { DeliveryEvent } from '../domain/delivery.js';
import { isUnavailable } from '../store/db.js';
import type { Db } from '../store/db.js';
import { claimDeliveries, dispatchOutbox, pruneDelivered, recordAttempt } from '../store/deliveries.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import { Backoff } from './backoff.js';
import { SendFailedError, send } from './notifiers.js';

/** The channel the database announces new outbox rows on (migration 0007). */
export const OUTBOX_CHANNEL = 'stockroom_outbox';

export interface DeliveryOptions {
  /** tries before a delivery is a dead letter (default 10) */
  maxAttempts?: number;
  /** wait after the first failed try; it doubles per try (default 30 s) */
  backoffMs?: number;
  /** the longest wait between tries (default 1 h) */
  backoffCapMs?: number;
  /** how long one try may take (default 10 s) */
  timeoutMs?: number;
  /** how often due retries are looked for when nothing wakes the worker (default 1 s) */
  pollMs?: number;
  /** tries in flight at once, each to a different channel (default 16) */
  batch?: number;
  /** how long deliveries that got through (and their outbox rows) are kept (default 30 days; 0: for ever) */
  retentionMs?: number;
  /** how often the worker forgets what is past retention (default 1 h) */
  pruneEveryMs?: number;
  /** STOCKROOM_SECRET_KEY: opens channel secrets sealed with it */
  secretKey?: string | undefined;
}

export interface DeliveryRun {
  dispatched: number;
  delivered: number;
  failed: number;
  /** deliveries forgotten, past retention */
  pruned: number;
}

export interface DeliveryLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

const toEvent = (d: ClaimedDelivery): DeliveryEvent => ({
  id: String(d.outbox_id),
  type: d.event,
  created_at: new Date(d.created_at).toISOString(),
  data: d.payload,
});

/**
 * Moves outbox events to their channels: dispatch, then send what is due, with retries and a dead letter. It
 * wakes when the database announces a new outbox row, and polls for retries coming due. Every step is in the
 * database, so any number of processes can run one, and a process that dies loses nothing (see migration 0008).
 */
export class DeliveryWorker {
  private readonly o: Required<Omit<DeliveryOptions, 'secretKey'>>;
  private readonly secretKey: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private again = false;
  private busy = false;
  private stopped = true;
  /** set by stop(): a round in progress ends after the batch it is sending */
  private halting = false;
  private unlisten: (() => Promise<void>) | undefined;
  private prunedAt = 0;
  /** rounds that failed (the database away) wait longer each time before the next, instead of every poll */
  private failing: Backoff;
  /** wakes a round that waits for a slot to free, when there is something new to dispatch */
  private nudge: (() => void) | undefined;
  /** how tries ended since start, by result (for /metrics) */
  readonly counts = { delivered: 0, failed: 0, dead: 0 };

  constructor(
    private readonly db: Db,
    options: DeliveryOptions = {},
    private log?: DeliveryLog,
  ) {
    this.o = {
      maxAttempts: options.maxAttempts ?? 10,
      backoffMs: options.backoffMs ?? 30_000,
      backoffCapMs: options.backoffCapMs ?? 3_600_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      pollMs: options.pollMs ?? 1000,
      batch: options.batch ?? 16,
      retentionMs: options.retentionMs ?? 30 * 86_400_000,
      pruneEveryMs: options.pruneEveryMs ?? 3_600_000,
    };
    this.failing = new Backoff(this.o.pollMs, 30_000);
    this.secretKey = options.secretKey === undefined ? undefined : secretKeyFrom(options.secretKey);
  }

  /** A claim outlives the slowest try with room to record it; after that the delivery is someone else's. */
  get leaseMs(): number {
    return this.o.timeoutMs * 2 + 1000;
  }

  /** Where failures are reported (a server's logger, once it exists). */
  logTo(log: DeliveryLog): void {
    this.log = log;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.halting = false;
    // a listening connection that is back after a loss may have missed announcements: look at once
    this.unlisten = await this.db.listen(
      OUTBOX_CHANNEL,
      () => {
        this.wake();
      },
      () => {
        this.wake();
      },
    );
    this.wake();
  }

  /** Lets the tries in flight finish (each is bounded by timeoutMs) and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halting = true;
    clearTimeout(this.timer);
    this.nudge?.();
    await this.unlisten?.();
    await this.running;
  }

  /** Runs a round now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      this.nudge?.();
      return;
    }
    clearTimeout(this.timer);
    this.busy = true;
    let failed = false;
    let retryInMs = this.o.pollMs;
    this.running = this.deliverDue()
      .then(() => {
        this.failing.succeeded();
      })
      .catch((err: unknown) => {
        failed = true;
        retryInMs = this.failing.failed();
        this.log?.warn(
          { err, retryInMs },
          isUnavailable(err)
            ? 'delivery round could not reach the database; it backs off and runs again'
            : 'delivery round failed; it runs again',
        );
      })
      .finally(() => {
        this.busy = false;
        if (this.stopped) return;
        // after a failure even a nudge waits out the backoff: each new outbox row would otherwise retry at once
        if (this.again && !failed) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => {
            this.wake();
          }, retryInMs);
        }
      });
  }

  /**
   * One round: dispatch every new outbox row, and keep up to `batch` tries in flight, one per channel, claiming
   * the next due delivery as soon as one ends, so a receiver that hangs holds up its own channel only. New outbox rows
   * announced meanwhile are dispatched in the same round. Now and then, forget what got through longer ago than
   * the retention. The round ends when nothing is in flight and nothing is due.
   */
  async deliverDue(): Promise<DeliveryRun> {
    const run = { dispatched: 0, delivered: 0, failed: 0, pruned: 0 };
    if (this.o.retentionMs > 0 && Date.now() - this.prunedAt >= this.o.pruneEveryMs) {
      this.prunedAt = Date.now();
      run.pruned = await this.db.transaction((tx) => pruneDelivered(tx, this.o.retentionMs, 10_000));
    }
    const inFlight = new Map<Promise<void>, number>();
    let dispatchedAt = 0;
    for (;;) {
      if (!this.halting) {
        if (dispatchedAt === 0 || this.again || Date.now() - dispatchedAt >= this.o.pollMs) {
          this.again = false;
          dispatchedAt = Date.now();
          run.dispatched += await this.dispatchAll();
        }
        const free = this.o.batch - inFlight.size;
        const busy = [...inFlight.values()];
        const claimed =
          free > 0 ? await this.db.transaction((tx) => claimDeliveries(tx, free, this.leaseMs, busy)) : [];
        for (const d of claimed) {
          const attempt: Promise<void> = this.attempt(d)
            .then((ok) => {
              if (ok) run.delivered++;
              else run.failed++;
            })
            .catch((err: unknown) => {
              // the try's outcome could not be recorded: its claim lapses and it is tried again
              this.log?.warn({ err, delivery: d.id }, 'could not record a delivery try');
            })
            .finally(() => inFlight.delete(attempt));
          inFlight.set(attempt, d.channel_id);
        }
      }
      if (inFlight.size === 0) return run;
      // the next slot to free, a new outbox row, or retries coming due, whichever is first
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ...inFlight.keys(),
        new Promise<void>((resolve) => {
          this.nudge = resolve;
          timer = setTimeout(resolve, this.o.pollMs);
        }),
      ]);
      clearTimeout(timer);
      this.nudge = undefined;
    }
  }

  private async dispatchAll(): Promise<number> {
    let dispatched = 0;
    for (;;) {
      const n = await this.db.transaction((tx) => dispatchOutbox(tx, 500));
      dispatched += n;
      if (n < 500) return dispatched;
    }
  }

  private async attempt(d: ClaimedDelivery): Promise<boolean> {
    const startedAt = new Date();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // a channel whose secrets cannot be opened (no key, another key) fails its try like a refusing receiver
      statusCode = await send(d.kind, { ...d.config, ...open(this.secretKey, d.secrets) }, toEvent(d), {
        timeoutMs: this.o.timeoutMs,
        now: () => Math.floor(Date.now() / 1000),
      });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      statusCode = e instanceof SendFailedError ? e.statusCode : null;
    }
    const ok = error === null;
    const spent = d.spent + 1;
    const retryInMs =
      ok || spent >= this.o.maxAttempts
        ? null
        : retryDelayMs(spent, this.o.backoffMs, this.o.backoffCapMs, randomInt(1_000_000) / 1_000_000);
    await this.db.transaction((tx) =>
      recordAttempt(tx, {
        deliveryId: d.id,
        attempt: d.attempt,
        startedAt,
        durationMs: Date.now() - startedAt.getTime(),
        ok,
        statusCode,
        error,
        retryInMs,
      }),
    );
    if (ok) this.counts.delivered++;
    else if (retryInMs === null) this.counts.dead++;
    else this.counts.failed++;
    if (!ok)
      this.log?.warn(
        { delivery: d.id, channel: d.channel_id, attempt: d.attempt, error, dead: retryInMs === null },
        'delivery failed',
      );
    return ok;
  }
}

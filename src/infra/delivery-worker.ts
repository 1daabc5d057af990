import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs } from '../domain/backoff.js';
import { open, secretKeyFrom } from '../domain/secret-box.js';
import type { DeliveryEvent } from '../domain/delivery.js';
import { isUnavailable } from '../store/db.js';
import type { Db } from '../store/db.js';
import {
  claimDeliveries,
  dispatchOutbox,
  eventsOf,
  eventsOfGathered,
  pruneDelivered,
  readGathered,
  recordAttempts,
} from '../store/deliveries.js';
import type { AttemptOutcome, ClaimedDelivery, DeliveredEvent, GatheredRow } from '../store/deliveries.js';
import { Backoff } from './backoff.js';
import { SendFailedError, send, sendBatch } from './notifiers.js';

/** Resolves once `count` of `promises` (which never reject) have settled. */
const settled = (promises: readonly Promise<void>[], count: number): Promise<void> =>
  new Promise<void>((resolve) => {
    let ended = 0;
    for (const promise of promises)
      void promise.finally(() => {
        if (++ended >= count) resolve();
      });
  });

/** The channel the database announces new outbox rows on (migration 0007). */
const OUTBOX_CHANNEL = 'stockroom_outbox';

/** How alerts reach their channels: tries, backoff, timeouts, concurrency and retention (STOCKROOM_DELIVERY_*). */
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
  /** tries in flight at once, over every channel (default 64) */
  batch?: number;
  /**
   * tries in flight at once to one channel, each of a different ordering key (a variant, a reservation), so the events
   * of one key still reach it in order (default 16); alerts go one at a time per channel
   */
  concurrency?: number;
  /**
   * the shortest time between two dispatches while new events keep coming (a commit each, under load): what comes
   * meanwhile goes in one dispatch, a batch webhook's one delivery (default 250 ms). Each round (dispatch, claim, read,
   * send, settle) costs this process and the database a few milliseconds whatever it carries: at 100 ms that was
   * about 10 µs of CPU a reservation more than at 250 ms under a checkout load.
   */
  gatherMs?: number;
  /** how long deliveries that got through (and their outbox rows) are kept (default 30 days; 0: for ever) */
  retentionMs?: number;
  /** how often the worker forgets what is past retention (default 1 h) */
  pruneEveryMs?: number;
  /** STOCKROOM_SECRET_KEY: opens channel secrets sealed with it */
  secretKey?: string | undefined;
}

/** What one pass over due deliveries did. */
export interface DeliveryRun {
  dispatched: number;
  delivered: number;
  failed: number;
  /** deliveries forgotten, past retention */
  pruned: number;
}

/** Where the worker reports failed tries and rounds (a server's logger). */
export interface DeliveryLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** The most events one POST to a batch channel carries; a bigger batch row goes in several, in order. */
const EVENTS_PER_POST = 500;

/** An event as receivers see it. */
const wireEvent = (e: DeliveredEvent): DeliveryEvent => ({
  id: e.id,
  type: e.type,
  created_at: e.createdAt.toISOString(),
  data: e.data,
});

/** One POST to a batch webhook: its events written out, how many, and the ids that go in `sent` once it is through. */
interface BatchRequest {
  json: string;
  count: number;
  ids: string[];
}

/**
 * A batch webhook's requests for a delivery, in order, at most EVENTS_PER_POST events each. A row read as text joins
 * a request whole, as stored (its id goes in `sent` once through); the events of a row of the older form or of one
 * too big for a request, and a delivery of one row, are written out one by one (their own ids). What an earlier try
 * got through is left out.
 */
function batchRequests(delivery: ClaimedDelivery, rows: readonly GatheredRow[] | null): BatchRequest[] {
  const requests: BatchRequest[] = [];
  let open: BatchRequest & { parts: string[] } = { json: '', count: 0, ids: [], parts: [] };
  const add = (json: string, count: number, id: string): void => {
    if (open.count > 0 && open.count + count > EVENTS_PER_POST) {
      requests.push({ json: open.parts.join(','), count: open.count, ids: open.ids });
      open = { json: '', count: 0, ids: [], parts: [] };
    }
    open.parts.push(json);
    open.count += count;
    open.ids.push(id);
  };
  const oneByOne = (events: readonly DeliveredEvent[]): void => {
    for (const e of events) add(JSON.stringify(wireEvent(e)), 1, e.id);
  };
  if (rows === null) oneByOne(eventsOf(delivery));
  else {
    const sent = new Set(delivery.sent);
    for (const row of rows) {
      if (sent.has(String(row.id))) continue;
      if (row.wire !== null && row.count <= EVENTS_PER_POST) add(row.wire, row.count, String(row.id));
      else oneByOne(eventsOfGathered(row).filter((e) => !sent.has(e.id)));
    }
  }
  if (open.count > 0) requests.push({ json: open.parts.join(','), count: open.count, ids: open.ids });
  return requests;
}

/**
 * Moves outbox events to their channels: dispatch, then send what is due, with retries and a dead letter. It
 * wakes when the database announces a new outbox row, and polls for retries coming due. Every step is in the
 * database, so any number of processes can run one, and a process that dies loses nothing (see migration 0008).
 */
export class DeliveryWorker {
  private readonly settings: Required<Omit<DeliveryOptions, 'secretKey'>>;
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
  /** when this worker last dispatched (new outbox rows wait for gatherMs after it while they keep coming) */
  private dispatchedAt = 0;
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
    this.settings = {
      maxAttempts: options.maxAttempts ?? 10,
      backoffMs: options.backoffMs ?? 30_000,
      backoffCapMs: options.backoffCapMs ?? 3_600_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      pollMs: options.pollMs ?? 1000,
      batch: options.batch ?? 64,
      concurrency: options.concurrency ?? 16,
      gatherMs: options.gatherMs ?? 250,
      retentionMs: options.retentionMs ?? 30 * 86_400_000,
      pruneEveryMs: options.pruneEveryMs ?? 3_600_000,
    };
    this.failing = new Backoff(this.settings.pollMs, 30_000);
    this.secretKey = options.secretKey === undefined ? undefined : secretKeyFrom(options.secretKey);
  }

  /** A claim outlives the slowest try with room to record it; after that the delivery is someone else's. */
  get leaseMs(): number {
    return this.settings.timeoutMs * 2 + 1000;
  }

  /** Where failures are reported (a server's logger, once it exists). */
  logTo(log: DeliveryLog): void {
    this.log = log;
  }

  /** Starts listening for new outbox rows and runs a first round at once. */
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
      // the first announcement wakes a round waiting for tries to end; later ones find it knows already (under
      // load every commit announces, and each wake-up would cost a claim)
      if (!this.again) this.nudge?.();
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.busy = true;
    let failed = false;
    let retryInMs = this.settings.pollMs;
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
   * One round: dispatch every new outbox row, and keep up to `batch` tries in flight, up to `concurrency` per channel
   * (each of a different ordering key; alerts one per channel), claiming the next due delivery as soon as one ends,
   * so a receiver that hangs holds up its own channel only. New outbox rows
   * announced meanwhile are dispatched in the same round. Now and then, forget what got through longer ago than
   * the retention. The round ends when nothing is in flight and nothing is due.
   */
  async deliverDue(): Promise<DeliveryRun> {
    const run = { dispatched: 0, delivered: 0, failed: 0, pruned: 0 };
    if (this.settings.retentionMs > 0 && Date.now() - this.prunedAt >= this.settings.pruneEveryMs) {
      this.prunedAt = Date.now();
      run.pruned = await this.db.transaction((tx) => pruneDelivered(tx, this.settings.retentionMs, 10_000));
    }
    const inFlight = new Map<Promise<void>, ClaimedDelivery>();
    // tries that ended and are not recorded yet: recorded together, in one statement, before the next claim (which
    // must see them settled: the next event of a key is due only once the one before is) and before the round ends
    const ended: AttemptOutcome[] = [];
    const record = async (): Promise<void> => {
      if (ended.length === 0) return;
      const outcomes = ended.splice(0);
      try {
        // one statement, atomic on its own: no BEGIN and COMMIT around it (each a round trip)
        await recordAttempts(this.db, outcomes);
      } catch (err) {
        // the tries' outcomes could not be recorded: their claims lapse and they are tried again
        this.log?.warn({ err, deliveries: outcomes.map((o) => o.deliveryId) }, 'could not record delivery tries');
        return;
      }
      for (const outcome of outcomes) {
        if (outcome.ok) run.delivered++;
        else run.failed++;
        if (outcome.ok) this.counts.delivered++;
        else if (outcome.retryInMs === null) this.counts.dead++;
        else this.counts.failed++;
      }
    };
    let first = true;
    for (;;) {
      if (!this.halting) {
        // new outbox rows are dispatched together, at most every gatherMs while they keep coming (a commit each,
        // under load), over rounds too; and every pollMs whatever comes, for retries and for rows whose
        // announcement was missed
        const gatherLeft = this.dispatchedAt + this.settings.gatherMs - Date.now();
        if (((first || this.again) && gatherLeft <= 0) || Date.now() - this.dispatchedAt >= this.settings.pollMs) {
          this.again = false;
          this.dispatchedAt = Date.now();
          run.dispatched += await this.dispatchAll();
        } else if (first) {
          // woken for new rows too soon after the last dispatch: they go in the next one
          this.again = true;
        }
        first = false;
        // right before the claim: a try that ended while dispatching is settled first, or its key (or, for a
        // batch, its channel) would look busy to the claim, and the round would end with work due
        await record();
        const free = this.settings.batch - inFlight.size;
        const busy = [...inFlight.values()];
        const sending = {
          keyed: busy.filter((d) => d.ordering_key !== null).map((d) => d.channel_id),
          unkeyed: busy.filter((d) => d.ordering_key === null).map((d) => d.channel_id),
        };
        const claimed =
          free > 0
            ? // one statement, atomic on its own (as recording is)
              await claimDeliveries(
                this.db,
                free,
                this.leaseMs,
                sending,
                this.settings.concurrency,
                this.db.driver !== 'postgres',
              )
            : [];
        for (const delivery of claimed) {
          const attempt: Promise<void> = this.attempt(delivery)
            .then((outcome) => {
              ended.push(outcome);
            })
            .finally(() => inFlight.delete(attempt));
          inFlight.set(attempt, delivery);
        }
      }
      const gatherLeft = this.dispatchedAt + this.settings.gatherMs - Date.now();
      if (inFlight.size === 0) {
        if (ended.length > 0) {
          // what ended since the claim is recorded, and may have let the next delivery of its key come due
          await record();
          if (this.halting) return run;
          continue;
        }
        if (!this.again || this.halting) return run;
        // new rows came meanwhile: they are dispatched once the gather time since the last dispatch is past
        if (gatherLeft > 0) await sleep(gatherLeft);
        continue;
      }
      // half the tries in flight ending (so one claim serves several slots: a claim per ended try cost a transaction
      // per event), new outbox rows (once the gather time is past), or retries coming due, whichever is first
      const gathering = this.again && gatherLeft > 0;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        settled([...inFlight.keys()], Math.ceil(inFlight.size / 2)),
        new Promise<void>((resolve) => {
          this.nudge = resolve;
          timer = setTimeout(resolve, gathering ? Math.min(gatherLeft, this.settings.pollMs) : this.settings.pollMs);
        }),
      ]);
      clearTimeout(timer);
      this.nudge = undefined;
    }
  }

  private async dispatchAll(): Promise<number> {
    let dispatched = 0;
    for (;;) {
      // one statement, atomic on its own (a round trip, where BEGIN, the turn's lock and COMMIT were three more)
      const dispatchedNow = await dispatchOutbox(this.db, 500);
      dispatched += dispatchedNow;
      // fewer than asked: nothing more is waiting that this process may take (rows another one holds are skipped)
      if (dispatchedNow < 500) return dispatched;
    }
  }

  /**
   * Sends a delivery's events: a batch channel gets them in one POST (several past EVENTS_PER_POST, in order), any
   * other one event per request, those of different variants or reservations side by side (up to `concurrency`),
   * those of one in order. The whole try is bounded by the timeout, so it ends within its claim; a failure fails the
   * try, and the retry sends what did not get through (the ids that did go in `sent`; a batch row's only: a single
   * event is its delivery).
   * @returns the last success code
   */
  private async sendAll(delivery: ClaimedDelivery, config: Record<string, string>, sent: string[]): Promise<number> {
    const deadline = Date.now() + this.settings.timeoutMs;
    const options = (): { timeoutMs: number; now: () => number } => {
      const timeoutMs = deadline - Date.now();
      if (timeoutMs <= 0)
        throw new SendFailedError(`delivery ${delivery.id} not all sent within ${this.settings.timeoutMs} ms`);
      return { timeoutMs, now: () => Math.floor(Date.now() / 1000) };
    };
    // a batch channel's delivery of several rows: read now, as text (they are written once and never change)
    const rows = delivery.outbox_ids === null ? null : await readGathered(this.db, delivery.outbox_ids);
    if (delivery.batch && delivery.kind === 'webhook') {
      let status = 0;
      for (const request of batchRequests(delivery, rows)) {
        status = await sendBatch(config, request, options());
        if (delivery.ordering_key === 'batch') sent.push(...request.ids);
      }
      return status;
    }
    const events = eventsOf(delivery, rows).map((e) => ({ event: wireEvent(e), key: e.key }));
    const [only] = events;
    if (events.length === 1 && only) return send(delivery.kind, config, only.event, options());
    // one lane per stream, in order; lanes run side by side, and stop at the first failure
    const lanes = new Map<string, DeliveryEvent[]>();
    for (const { event, key } of events) {
      const lane = lanes.get(key ?? event.id) ?? [];
      lane.push(event);
      lanes.set(key ?? event.id, lane);
    }
    const queue = [...lanes.values()];
    let status = 0;
    let failure: Error | undefined;
    const runLanes = async (): Promise<void> => {
      for (let lane = queue.shift(); lane && failure === undefined; lane = queue.shift())
        for (const event of lane) {
          if (failure !== undefined) return;
          try {
            status = await send(delivery.kind, config, event, options());
            sent.push(event.id);
          } catch (error) {
            failure ??= error instanceof Error ? error : new Error(String(error));
          }
        }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, queue.length) }, runLanes));
    if (failure !== undefined) throw failure;
    return status;
  }

  /** Sends one try; what came of it is recorded by the round, with the others that ended with it. */
  private async attempt(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    const startedAt = new Date();
    const sent: string[] = [];
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // a channel whose secrets cannot be opened (no key, another key) fails its try like a refusing receiver
      statusCode = await this.sendAll(
        delivery,
        { ...delivery.config, ...open(this.secretKey, delivery.secrets) },
        sent,
      );
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      statusCode = failure instanceof SendFailedError ? failure.statusCode : null;
    }
    const ok = error === null;
    const spent = delivery.spent + 1;
    const retryInMs =
      ok || spent >= this.settings.maxAttempts
        ? null
        : retryDelayMs(spent, this.settings.backoffMs, this.settings.backoffCapMs, randomInt(1_000_000) / 1_000_000);
    if (!ok)
      this.log?.warn(
        {
          delivery: delivery.id,
          channel: delivery.channel_id,
          attempt: delivery.attempt,
          error,
          dead: retryInMs === null,
        },
        'delivery failed',
      );
    return {
      deliveryId: delivery.id,
      attempt: delivery.attempt,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      ok,
      statusCode,
      error,
      retryInMs,
      sent,
    };
  }
}

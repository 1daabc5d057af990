import { isUnavailable } from '../store/db.js';
import { asStockroomError } from '../store/failures.js';
import type { Driver } from '../store/db.js';

/** What a group says of one of its jobs: done, failed, or "run me in a later group". */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown } | { retry: true };

/** How jobs are gathered into groups: size, wait and how many groups run at once. */
export interface GroupCommitOptions {
  /** the most jobs one group (one transaction) takes */
  maxBatch: number;
  /** how long jobs are collected while other groups are running; an idle system runs a job at once */
  windowMs: number;
  /** groups running at the same time (each holds one database connection) */
  maxInFlight: number;
}

/**
 * Settings for a PostgreSQL server (the embedded database takes them with one group at a time): small waits,
 * groups of up to 250, four transactions at once. Ordinary load makes groups far smaller (about 25 from 64
 * checkout callers); the cap is met when thousands wait at once, as in a flash sale, where every group waits for
 * the one before it on the one level: fewer, larger groups hand that lock over less often (bench/README.md: +11%
 * answers a second, 100 against 250 alternating).
 */
export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxBatch: 250, windowMs: 2, maxInFlight: 4 };

/**
 * The fewest jobs a group split off a larger one holds, and the queue that goes at once while other groups run: a
 * group this size shares its transaction's fixed cost well enough that waiting for more would only add latency.
 */
export const SPLIT_GROUP_MIN = 32;

/** The embedded database runs one transaction at a time: more groups in flight would only queue. */
export const defaultGroupCommit = (driver: Driver): GroupCommitOptions =>
  driver === 'pglite' ? { ...DEFAULT_GROUP_COMMIT, maxInFlight: 1 } : DEFAULT_GROUP_COMMIT;

/** How a group commit has been used so far: jobs / groups is the mean group size. */
export interface GroupCommitStats {
  /** transactions run */
  groups: number;
  /** jobs run in them (a job run again in a later group counts again) */
  jobs: number;
}

interface Waiting<I, O> {
  job: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: jobs that arrive together run as one group, in one transaction and one commit, and each
 * caller is answered only after its group has committed. A lone job on an idle system runs at once; while
 * groups are running, arrivals are collected for at most `windowMs` or until a group is full.
 *
 * `run` must settle every job of its group on its own (a refused order is a result of its job, not a failure
 * of the group). If the group itself fails (its transaction could not commit), every job is run again alone,
 * so one bad job fails only its own caller; when the database cannot be reached, every caller hears so at once.
 */
export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private timerIsImmediate = false;
  readonly stats: GroupCommitStats = { groups: 0, jobs: 0 };

  constructor(
    private readonly run: (jobs: readonly I[]) => Promise<Settled<O>[]>,
    private readonly options: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
    /**
     * What a job works on (a reservation: its first SKU). Given, a queue of many jobs is split over the free
     * slots, so groups of different keys run side by side; jobs of one key stay in one group, which they would
     * only wait in line for anyway (a flash sale's one level).
     */
    private readonly keyOf?: (job: I) => string,
  ) {}

  /** Jobs waiting for a group to take them (not yet in a running transaction): a metrics gauge. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues a job for the next group; resolves with its result once that group has committed. */
  submit(job: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (this.queue.length >= this.options.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    // a running group picks up the queue when it finishes
    if (this.inFlight >= this.options.maxInFlight) return;
    // idle, or already a group's worth (a group's callers coming back at once): go after this turn of the event
    // loop (whatever arrives in it comes along); busy: wait a little
    const now = this.inFlight === 0 || (this.keyOf !== undefined && this.queue.length >= SPLIT_GROUP_MIN);
    if (this.timer !== undefined) {
      // a window already running is cut short once a group's worth is waiting
      if (this.timerIsImmediate || !now) return;
      clearTimeout(this.timer as NodeJS.Timeout);
    }
    this.timerIsImmediate = now;
    this.timer = now
      ? setImmediate(() => {
          this.flush();
        })
      : setTimeout(() => {
          this.flush();
        }, this.options.windowMs);
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    const taken = this.queue.splice(0, this.options.maxBatch);
    for (const group of this.split(taken, this.options.maxInFlight - this.inFlight)) {
      this.inFlight++;
      void this.runGroup(group).finally(() => {
        this.inFlight--;
        if (this.queue.length >= this.options.maxBatch) this.flush();
        else if (this.queue.length > 0) this.schedule();
      });
    }
  }

  /**
   * The jobs taken as groups for the free slots: one group, unless there are keys, two slots or more and two
   * groups' worth of jobs. Then the jobs, in key order, are cut into even parts at key boundaries, so that one
   * key's jobs stay together and the parts come back (and go again) at about the same size.
   */
  private split(taken: Waiting<I, O>[], free: number): Waiting<I, O>[][] {
    const parts = Math.min(free, Math.floor(taken.length / SPLIT_GROUP_MIN));
    const keyOf = this.keyOf;
    if (keyOf === undefined || parts < 2) return [taken];
    const keyed = taken.map((waiting) => ({ waiting, key: keyOf(waiting.job) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const size = Math.ceil(keyed.length / parts);
    const groups: Waiting<I, O>[][] = [];
    let group: Waiting<I, O>[] = [];
    keyed.forEach(({ waiting, key }, i) => {
      if (group.length >= size && key !== keyed[i - 1]?.key) {
        groups.push(group);
        group = [];
      }
      group.push(waiting);
    });
    groups.push(group);
    return groups;
  }

  private async runGroup(group: Waiting<I, O>[]): Promise<void> {
    let settled: Settled<O>[];
    this.stats.groups++;
    this.stats.jobs += group.length;
    try {
      settled = await this.run(group.map((waiting) => waiting.job));
    } catch (error) {
      // no one job causes an outage: running each alone would only knock on a closed door once per job
      if (group.length === 1 || isUnavailable(error)) {
        // what the failure means to the caller (an outage, a sum past a column's limit), as HTTP and the CLI say it
        const meaning = asStockroomError(error) ?? error;
        for (const waiting of group) waiting.reject(meaning);
        return;
      }
      // the group failed as a whole: each job alone, so the failure lands on the job that causes it; no more of
      // them at once than groups may run, so a failed group of 250 does not take every connection of the pool
      for (let i = 0; i < group.length; i += this.options.maxInFlight)
        await Promise.all(group.slice(i, i + this.options.maxInFlight).map((waiting) => this.runGroup([waiting])));
      return;
    }
    const again: Waiting<I, O>[] = [];
    group.forEach((waiting, i) => {
      const settlement = settled[i];
      if (!settlement) waiting.reject(new Error('group commit: a job was left without a result'));
      else if ('retry' in settlement) again.push(waiting);
      else if (settlement.ok) waiting.resolve(settlement.value);
      else waiting.reject(settlement.error);
    });
    if (again.length > 0) this.queue.unshift(...again);
  }
}

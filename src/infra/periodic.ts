import { Backoff } from './backoff.js';

/** What a server runs every so often beside its requests: the sweeper, replenishment, statistics, old keys. */
export interface PeriodicOptions<T> {
  /** time between turns; 0 (or less): never */
  everyMs: number;
  /** a first turn at once, not only after everyMs */
  atStart: boolean;
  /** after a failure, turns are skipped for a growing wait (see Backoff), so an outage costs a few warnings */
  backoff: boolean;
  /** one turn's work; its signal is aborted once the job is stopped (a long pass may end early) */
  run: (signal: AbortSignal) => Promise<T>;
  /** what a turn that worked is told to (its log line, its metrics) */
  succeeded: (result: T) => void;
  /** what a turn that failed is told to */
  failed: (error: unknown) => void;
}

/** A periodic job once started: stopped at the start of a shutdown, waited for at its end. */
export interface Periodic {
  /** no more turns; a turn in progress sees its signal aborted */
  stop(): void;
  /** resolves once no turn is in progress (at once if none is) */
  idle(): Promise<void>;
}

/**
 * Runs a job every `everyMs`, one turn at a time: a turn still running (a backlog, a database slow to answer)
 * is not joined by another, and a turn's failure is told to `failed`, never thrown.
 */
export function runEvery<T>(options: PeriodicOptions<T>): Periodic {
  if (options.everyMs <= 0) return { stop: () => undefined, idle: async () => undefined };
  const backoff = options.backoff ? new Backoff(options.everyMs) : undefined;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  const once = async (): Promise<void> => {
    try {
      const result = await options.run(stopping.signal);
      backoff?.succeeded();
      // inside the try: a turn whose report throws is a failed turn, not an unhandled rejection ending the process
      options.succeeded(result);
    } catch (error) {
      backoff?.failed();
      options.failed(error);
    }
  };
  const turn = (): void => {
    if (running !== undefined || backoff?.due() === false || stopping.signal.aborted) return;
    running = once().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(turn, options.everyMs);
  if (options.atStart) turn();
  return {
    stop: () => {
      clearInterval(timer);
      stopping.abort();
    },
    idle: async () => running,
  };
}

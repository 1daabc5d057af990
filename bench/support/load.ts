import { percentile, round } from './numbers.js';

const run = Math.random().toString(36).slice(2, 8);
let refs = 0;

/**
 * An order_ref no other call of this bench run uses: an order has one open reservation, so a ref used again
 * (the call counter `n` restarts with every load) would be refused, or make a hand-written insert violate the
 * unique index.
 */
export const uniqueOrderRef = (prefix: string): string => `${prefix}-${run}-${++refs}`;

/** What one call of a load test ended as. */
export type Outcome = 'ok' | 'refused' | 'error';

export interface LoadResult {
  calls: number;
  ok: number;
  refused: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** the first error met, to say what went wrong */
  firstError?: string;
}

/**
 * Runs `workers` loops at once, each calling `call(n)` one after the other (n counts calls across all workers)
 * until `seconds` have passed or `maxCalls` calls have been started. Each call's latency is recorded; the rate
 * counts every finished call.
 */
export async function drive(
  options: { workers: number; seconds?: number; maxCalls?: number },
  call: (n: number) => Promise<Outcome>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let refused = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
  const maxCalls = options.maxCalls ?? Infinity;
  const worker = async (): Promise<void> => {
    while (next < maxCalls && performance.now() < deadline) {
      const n = next++;
      const t = performance.now();
      let outcome: Outcome;
      try {
        outcome = await call(n);
      } catch (error) {
        outcome = 'error';
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      latencies.push(performance.now() - t);
      if (outcome === 'ok') ok++;
      else if (outcome === 'refused') refused++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const calls = ok + refused + errors;
  return {
    calls,
    ok,
    refused,
    errors,
    seconds: round(seconds),
    perSecond: Math.round(calls / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

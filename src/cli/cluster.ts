import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, Registry } from 'prom-client';
import { retryDelayMs } from '../domain/backoff.js';
import { ListenError, ValidationError } from '../domain/errors.js';
import { envInt } from './args.js';
import type { Io } from './io.js';

/** The response header a worker of `stockroom serve --workers N` names itself in: `<slot>; pid=<pid>`. */
export const WORKER_HEADER = 'stockroom-worker';

/** The environment variable the primary tells a worker its slot (1..N) in; a restarted worker keeps the slot. */
const SLOT_ENV = 'STOCKROOM_WORKER_SLOT';

/** How long a worker waits for the primary's sum of every worker's metrics before it answers with its own. */
const CLUSTER_METRICS_TIMEOUT_MS = 6_000;

/** A worker asks the primary for every worker's metrics, summed; the primary answers with the text or the error. */
interface MetricsMessage {
  stockroom: 'metrics';
  id: number;
  text?: string;
  error?: string;
}

const isMetrics = (message: unknown): message is MetricsMessage =>
  typeof message === 'object' && message !== null && (message as { stockroom?: unknown }).stockroom === 'metrics';

/** The message a worker sends the primary once it listens. */
interface ListeningMessage {
  stockroom: 'listening';
  url: string;
}

const isListening = (message: unknown): message is ListeningMessage =>
  typeof message === 'object' &&
  message !== null &&
  (message as { stockroom?: unknown }).stockroom === 'listening' &&
  typeof (message as { url?: unknown }).url === 'string';

/** What this process is in a `stockroom serve --workers N`: the primary, or a worker in its slot. */
export type ServeRole = { role: 'single' } | { role: 'primary'; workers: number } | { role: 'worker'; slot: number };

/**
 * How many server processes `stockroom serve` runs: `--workers`, else STOCKROOM_WORKERS, else one per core on a
 * PostgreSQL server and one on the embedded database. The embedded database (PGlite) lives in this process and is
 * opened by one process at a time, so more than one worker on it is refused before anything starts.
 */
export function workerCount(env: NodeJS.ProcessEnv, flag: number | undefined): number {
  const embedded = !env.DATABASE_URL;
  const fromEnv = env.STOCKROOM_WORKERS ? envInt(env, 'STOCKROOM_WORKERS', 1, 1) : undefined;
  const given = flag ?? fromEnv;
  if (given === undefined) return embedded ? 1 : availableParallelism();
  if (given < 1) throw ValidationError.field('/options/workers', `must be 1 or more (not ${given})`);
  if (embedded && given > 1)
    throw ValidationError.field(
      flag === undefined ? '/env/STOCKROOM_WORKERS' : '/options/workers',
      `the embedded database serves one process, so it runs one worker (not ${given}); for more, move the store ` +
        'to a PostgreSQL server and set DATABASE_URL (docs/operations.md)',
    );
  return given;
}

/** Whether this process serves alone, supervises workers, or is one of them. */
export function serveRole(workers: number): ServeRole {
  if (cluster.isWorker) return { role: 'worker', slot: Number(process.env[SLOT_ENV] ?? cluster.worker?.id ?? 0) };
  return workers > 1 ? { role: 'primary', workers } : { role: 'single' };
}

/** Tells the primary this worker listens at `url` (the primary prints the one banner once every worker does). */
export function announceListening(url: string): void {
  const message: ListeningMessage = { stockroom: 'listening', url };
  process.send?.(message);
}

/**
 * A worker is done (drained, or failed to start): its channel to the primary is closed, which a worker's event loop
 * would otherwise wait on for ever, so the process ends with the exit code the command set.
 */
export function leaveCluster(): void {
  cluster.worker?.disconnect();
}

/**
 * Whether the port can be had, asked by the primary before it starts any worker: a port in use (or not permitted)
 * then ends the command with the one line a single process gives, instead of every worker failing with it. Port 0
 * (any free one) always can.
 */
export async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, resolve);
  }).catch((error: unknown) => {
    throw new ListenError(host, port, error);
  });
  await new Promise((resolve) => probe.close(resolve));
}

/**
 * The registry a worker's GET /metrics shows: every worker's figures, summed by the primary (prom-client's
 * AggregatorRegistry; the database's own figures are taken once, not summed), so a scrape through the shared port
 * sees the host whichever worker takes it. If the primary does not answer in time, the worker's own figures.
 */
export function clusterMetricsRegistry(own: Registry): Registry {
  // answers the primary's requests for this worker's figures (prom-client's listener, added by the constructor)
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries(own);
  let next = 0;
  const waiting = new Map<number, (message: MetricsMessage) => void>();
  process.on('message', (message: unknown) => {
    if (isMetrics(message)) waiting.get(message.id)?.(message);
  });
  const host = new (class extends Registry {
    override async metrics(): Promise<string> {
      const id = ++next;
      const answer = await new Promise<MetricsMessage | undefined>((resolve) => {
        const timer = setTimeout(resolve, CLUSTER_METRICS_TIMEOUT_MS, undefined);
        waiting.set(id, (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        const ask: MetricsMessage = { stockroom: 'metrics', id };
        process.send?.(ask);
      }).finally(() => waiting.delete(id));
      return answer?.text ?? own.metrics();
    }
  })();
  return host;
}

/** How the primary runs its workers. */
export interface SuperviseOptions {
  workers: number;
  /** the first wait before a worker that died is started again; it doubles with every death, up to the cap */
  restartBackoffMs: number;
  restartBackoffCapMs: number;
  /** how long a worker drains on SIGTERM (its STOCKROOM_SHUTDOWN_GRACE_MS); the primary kills it this much later */
  shutdownGraceMs: number;
  banner: (url: string, workers: number) => string;
}

/** One worker's place: the process in it now, and the pending start of its next one after a death. */
interface Slot {
  worker: Worker;
  startedAt: number;
  restart?: NodeJS.Timeout;
}

/** A worker that stays up this long after a restart is counted as well again: its next death waits the first wait. */
const HEALTHY_AFTER_MS = 60_000;
/** What a draining worker may take past its grace period (its sweep, deliveries, closing the pool) before SIGKILL. */
const DRAIN_MARGIN_MS = 30_000;

/**
 * The primary of `stockroom serve --workers N`: forks N workers that share one port (node:cluster hands each new
 * connection to the next worker), prints one banner once all listen, starts a worker that dies again (with a
 * growing wait, so a crash loop or an outage costs a line now and then, not a fork storm), and on SIGTERM or
 * SIGINT passes SIGTERM to every worker and waits for their graceful drain. A worker that fails before the first
 * banner (a port in use, a schema behind) ends the whole command with its exit code. Returns the exit code.
 */
export function superviseWorkers(options: SuperviseOptions, io: Io): Promise<number> {
  const slots = new Map<number, Slot>();
  let started = false;
  let stopping = false;
  let exitCode = 0;
  const listening = new Set<number>();
  const aggregator = new AggregatorRegistry();
  // structured clone, not JSON, across the IPC channel: a gauge's NaN (a replica unreachable, the database's
  // figures unknown) would arrive as null, and the host's scrape would say 0
  cluster.setupPrimary({ serialization: 'advanced' });

  return new Promise<number>((resolve) => {
    const finishIfAllGone = (): void => {
      if (stopping && [...slots.values()].every((slot) => slot.worker.isDead() && !slot.restart)) {
        process.removeListener('SIGTERM', onSignal);
        process.removeListener('SIGINT', onSignal);
        resolve(exitCode);
      }
    };

    const stop = (code: number): void => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      for (const slot of slots.values()) {
        clearTimeout(slot.restart);
        delete slot.restart;
        if (!slot.worker.isDead()) slot.worker.process.kill('SIGTERM');
      }
      // a worker that does not finish draining is not waited for forever
      setTimeout(() => {
        for (const slot of slots.values()) if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
      }, options.shutdownGraceMs + DRAIN_MARGIN_MS).unref();
      finishIfAllGone();
    };

    const onSignal = (signal: NodeJS.Signals): void => {
      io.err(`stockroom: ${signal}: draining ${options.workers} workers`);
      stop(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    const fork = (slotNumber: number, deaths: number): void => {
      const worker = cluster.fork({ [SLOT_ENV]: String(slotNumber) });
      const slot: Slot = { worker, startedAt: Date.now() };
      slots.set(slotNumber, slot);
      worker.on('message', (message: unknown) => {
        if (isMetrics(message)) {
          void aggregator.clusterMetrics().then(
            (text) => worker.send({ stockroom: 'metrics', id: message.id, text } satisfies MetricsMessage),
            (error: unknown) =>
              worker.send({ stockroom: 'metrics', id: message.id, error: String(error) } satisfies MetricsMessage),
          );
          return;
        }
        if (!isListening(message)) return;
        if (listening.has(slotNumber))
          io.err(`stockroom: worker ${slotNumber} (pid ${worker.process.pid}) serves again`);
        listening.add(slotNumber);
        if (!started && listening.size === options.workers) {
          started = true;
          io.out(options.banner(message.url, options.workers));
        }
      });
      // a worker killed by a signal has no exit code (null), whatever the typings say
      worker.on('exit', (code: number | null, signal: string | null) => {
        if (stopping) {
          // a drain that ended in anything but a clean exit is the command's failure (the first reason is kept)
          if (code !== 0 && exitCode === 0) exitCode = code ?? 1;
          finishIfAllGone();
          return;
        }
        const how = signal ? `signal ${signal}` : `code ${String(code)}`;
        if (!started) {
          io.err(`stockroom: worker ${slotNumber} (pid ${worker.process.pid}) exited with ${how} before serving`);
          stop(code === 0 || code === null ? 1 : code);
          return;
        }
        const next = Date.now() - slot.startedAt > HEALTHY_AFTER_MS ? 1 : deaths + 1;
        const waitMs = retryDelayMs(next, options.restartBackoffMs, options.restartBackoffCapMs, Math.random());
        io.err(
          `stockroom: worker ${slotNumber} (pid ${worker.process.pid}) exited with ${how}; ` +
            `starting it again in ${Math.round(waitMs)} ms`,
        );
        slot.restart = setTimeout(() => {
          delete slot.restart;
          if (!stopping) fork(slotNumber, next);
        }, waitMs);
      });
    };

    for (let slotNumber = 1; slotNumber <= options.workers; slotNumber++) fork(slotNumber, 0);
  });
}

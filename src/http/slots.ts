import { AtCapacityError, TooManyRequestsError } from '../domain/errors.js';

/** The caps of one kind of slot (open streams, running imports), and what a refusal says. */
export interface SlotLimits {
  /** at most this many held at once in all */
  total: number;
  /** at most this many held at once by one client address */
  perClient?: number | undefined;
  /** what the refusal says and how long it asks the caller to wait */
  what: string;
  retryAfterSeconds: number;
}

/**
 * Counts something a client holds for a while (an open stream, a running import) against a cap per client
 * address and one in all. Taking a slot either succeeds and gives the function that frees it, or throws: 429
 * when this client holds its share, 503 when the server holds all it may.
 */
export class Slots {
  private held = 0;
  private readonly byClient = new Map<string, number>();

  constructor(private readonly limits: SlotLimits) {}

  /** How many slots are held now, by every client together (a metrics gauge). */
  get inUse(): number {
    return this.held;
  }

  /** Takes a slot for this client address, or throws; the returned function frees it (once). */
  take(client: string): () => void {
    const { total, perClient, what, retryAfterSeconds } = this.limits;
    const mine = this.byClient.get(client) ?? 0;
    if (perClient !== undefined && mine >= perClient) {
      throw new TooManyRequestsError(
        `at most ${perClient} ${what} at once from one address; close one or try again later`,
        retryAfterSeconds,
      );
    }
    if (this.held >= total)
      throw new AtCapacityError(
        `already ${total} ${what} at once, as many as the server takes; try again later`,
        retryAfterSeconds,
      );
    this.held++;
    this.byClient.set(client, mine + 1);
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.held--;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left === 0) this.byClient.delete(client);
      else this.byClient.set(client, left);
    };
  }
}

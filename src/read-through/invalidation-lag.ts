import type { DocumentEntry } from "../l2/document-entry.js";
import { invalidationLagChannel } from "../observability/event-channels.js";

/**
 * Push invalidation lag of one document, measured without any extra Redis call or writer cost. The writer's wall
 * clock is already in every entry's header: `fetchedAt` is when a fill's Postgres read ended (its fenced SET follows
 * at once) or when a write-through was built after commit. When a push invalidation of an id
 * arrives, its receipt time is noted; the next L2 read of that id here (the L1 miss the invalidation caused) reads
 * the new entry, and `received - written` is one sample.
 *
 * Caveats: both are wall clocks of different processes, so clock skew between the writer's host and this one is
 * in every sample (keep hosts on NTP; sub-ms lags are below what skew allows). A sample whose write time is after
 * the receipt is discarded (counted): either a later write whose invalidation is still in flight, or skew. Ids
 * invalidated but never read again give no sample. At most `MAX_PENDING` receipts are remembered (oldest dropped).
 */
export interface InvalidationLagStats {
  /** Samples taken. */
  readonly samples: number;
  /** Samples discarded (a newer write than the invalidation seen, or clock skew). */
  readonly discarded: number;
  /** The last sample, in ms; undefined before the first. */
  readonly lastMs: number | undefined;
  /** The largest sample, in ms. */
  readonly maxMs: number;
  /** Mean of every sample, in ms; undefined before the first. */
  readonly meanMs: number | undefined;
}

const MAX_PENDING = 1_024;

export class InvalidationLag {
  readonly #received = new Map<string, number>();
  #samples = 0;
  #discarded = 0;
  #last: number | undefined;
  #max = 0;
  #total = 0;

  constructor(private readonly document: string) {}

  /** Whether an id awaits its sample (the read path checks this before sampling). */
  get pending(): boolean {
    return this.#received.size > 0;
  }

  /** A push invalidation of `id` arrived at `now` (wall ms). */
  received(id: string, now: number): void {
    this.#received.delete(id); // re-insert at the end: the latest receipt counts
    this.#received.set(id, now);
    if (this.#received.size > MAX_PENDING) {
      const oldest = this.#received.keys().next().value as string;
      this.#received.delete(oldest);
    }
  }

  /** An L2 read of `id` found `entry`: one sample if a receipt awaits it. */
  read(id: string, entry: DocumentEntry): void {
    const received = this.#received.get(id);
    if (received === undefined) return;
    this.#received.delete(id);
    const lag = received - entry.fetchedAt;
    if (lag < 0) {
      this.#discarded++;
      return;
    }
    this.#samples++;
    this.#last = lag;
    this.#total += lag;
    if (lag > this.#max) this.#max = lag;
    if (invalidationLagChannel.hasSubscribers) {
      invalidationLagChannel.publish({ document: this.document, id, lagMs: lag });
    }
  }

  stats(): InvalidationLagStats {
    return {
      samples: this.#samples,
      discarded: this.#discarded,
      lastMs: this.#last,
      maxMs: this.#max,
      meanMs: this.#samples === 0 ? undefined : this.#total / this.#samples,
    };
  }
}

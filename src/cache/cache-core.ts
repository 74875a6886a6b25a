import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import { RateLimitedLog } from "../kernel/rate-limited-log.js";
import type { KeyValueStore, StoredEntry } from "../l2/key-value-store.js";
import type { BackgroundRefresher } from "../read-through/background-refresher.js";
import { SingleFlight } from "../read-through/single-flight.js";
import { CacheObservers } from "./cache-operation.js";
import { CacheCounters } from "./cache-stats.js";
import type { KvL1 } from "./kv-l1.js";

/** What a loader produced: the value, or a marker that it returned undefined. */
export interface Loaded {
  readonly value: unknown;
}

/**
 * Everything one cache name has on one runtime, shared by every `cache(name)` view: the store, the single-flight
 * table, counters, observers, the optional L1. Views differ only in their default ttl.
 */
export class CacheCore {
  readonly counters = new CacheCounters();
  readonly observers = new CacheObservers();
  readonly flights = new SingleFlight<Loaded>();
  /**
   * Moves on every clear() and invalidateTags() of this runtime: a loader that began before it does not write its
   * (possibly older) result back. Per key, `flights.detach` does the same for set/delete.
   */
  epoch = 0;
  /** Absorbed store failures inside getOrSet, logged at most once per 10 s per kind. */
  readonly storeErrorLog: RateLimitedLog;

  constructor(
    readonly name: string,
    readonly store: KeyValueStore,
    readonly maxValueBytes: number,
    readonly clock: Clock,
    readonly logger: Logger,
    readonly refresher: BackgroundRefresher | undefined,
    readonly l1: KvL1 | undefined,
  ) {
    this.storeErrorLog = new RateLimitedLog(logger, clock);
  }

  /** The store's live entries of `keys`, through L1 when there is one (`fromL1` marks the L1 answers). */
  async read(keys: ReadonlyArray<string>): Promise<{ entries: Array<StoredEntry | undefined>; fromL1: number }> {
    const l1 = this.l1;
    if (l1 === undefined) return { entries: await this.store.read(keys), fromL1: 0 };
    return l1.read(keys, this.store);
  }

  /** A local write or delete of `keys`: later reads start afresh (read-your-writes), L1 copies go. */
  touched(keys: ReadonlyArray<string>): void {
    for (const key of keys) this.flights.detach(key);
    this.l1?.drop(keys);
  }

  /** A clear or tag invalidation: every loader in flight keeps its result to itself, L1 empties. */
  invalidatedAll(): void {
    this.epoch++;
    this.l1?.flush();
  }
}

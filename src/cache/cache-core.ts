import type { CacheCoordination } from "../coordination/cache-coordination.js";
import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import { RateLimitedLog } from "../kernel/rate-limited-log.js";
import type { KeyValueStore, StoredEntry } from "../l2/key-value-store.js";
import type { BackgroundRefresher } from "../read-through/background-refresher.js";
import { SingleFlight } from "../read-through/single-flight.js";
import { CacheObservers } from "./cache-operation.js";
import type { CacheStats } from "./cache-stats.js";
import { CacheCounters } from "./cache-stats.js";
import { FLUSH_ALL_KEYS, type KvL1 } from "./kv-l1.js";
import type { KvClaim, KvLease } from "./kv-lease.js";

/** What a loader produced: the value, or a marker that it returned undefined. */
export interface Loaded {
  readonly value: unknown;
  /** Where a flight that ran no loader found its value: another process's fill ("l2"), or grace data ("stale"). */
  readonly tier?: "l2" | "stale";
}

/**
 * Everything one cache name has on one runtime, shared by every `cache(name)` view: the store, the single-flight
 * table, counters, observers, the optional L1. Views differ only in their default ttl.
 */
export class CacheCore {
  readonly counters = new CacheCounters();
  readonly observers = new CacheObservers();
  readonly flights = new SingleFlight<Loaded>({ remember: true });
  /**
   * Moves on every clear() and invalidateTags() of this runtime: a loader that began before it does not write its
   * (possibly older) result back. Per key, `flights.detach` does the same for set/delete.
   */
  epoch = 0;
  /** Absorbed store failures inside getOrSet, logged at most once per 10 s per kind. */
  readonly storeErrorLog: RateLimitedLog;
  /** Locks and rate limits on this cache's backend (set by the runtime; undefined for a backend without them). */
  coordination: CacheCoordination | undefined;
  /** getOrSet's fill lease (set by the runtime on a backend with leases; kv-lease.ts), else undefined. */
  lease: KvLease | undefined;

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
    this.pushTarget.document = name;
  }

  /** The store's live entries of `keys`, through L1 when there is one (`fromL1` marks the L1 answers). */
  async read(keys: ReadonlyArray<string>): Promise<{ entries: Array<StoredEntry | undefined>; fromL1: number }> {
    const l1 = this.l1;
    if (l1 === undefined) return { entries: await this.store.read(keys), fromL1: 0 };
    return l1.read(keys, this.store);
  }

  /**
   * A leased read of `key` (kv-lease.ts), through L1 when there is one: an L1 copy is `"fresh"` (no lease). Rejects
   * when the store fails.
   */
  async claim(key: string, lease: KvLease): Promise<{ claim: KvClaim; fromL1: boolean }> {
    const l1 = this.l1;
    if (l1 === undefined) return { claim: await lease.claim(key, this.clock.now()), fromL1: false };
    let claim: KvClaim | undefined;
    const { entries, fromL1 } = await l1.readVia([key], async () => {
      claim = await lease.claim(key, this.clock.now());
      return [claim.entry];
    });
    return { claim: claim ?? { entry: entries[0], state: "fresh", token: "" }, fromL1: fromL1 > 0 };
  }

  /** A local write or delete of `keys`: later reads start afresh (read-your-writes), L1 copies go. */
  touched(keys: ReadonlyArray<string>): void {
    for (const key of keys) this.flights.detach(key);
    this.l1?.drop(keys);
    if (this.lease !== undefined) for (const key of keys) this.lease.wake(key);
  }

  /** A clear or tag invalidation: every loader in flight keeps its result to itself, L1 empties. */
  invalidatedAll(): void {
    this.epoch++;
    this.l1?.flush();
    this.lease?.wakeAll();
  }

  /** The counters, with the lease's once it is on or was used. */
  stats(): CacheStats {
    const stats = this.counters.snapshot();
    const lease = this.lease;
    return lease?.used === true ? { ...stats, lease: lease.counters.snapshot() } : stats;
  }

  /**
   * What the push channel drives (the router's LocalCache): the L1 copies, and the lease's waiters, woken by the
   * invalidation of a key another process filled or wrote.
   */
  readonly pushTarget = ((core: CacheCore) => ({
    document: "",
    get size(): number {
      return core.l1?.size ?? 0;
    },
    invalidateLocal(key: string): void {
      core.l1?.invalidateLocal(key);
      if (key === FLUSH_ALL_KEYS) core.lease?.wakeAll();
      else core.lease?.wake(key);
    },
    flushLocal(): void {
      core.l1?.flushLocal();
      core.lease?.wakeAll();
    },
    setL1Open(open: boolean): void {
      core.l1?.setL1Open(open);
    },
  }))(this);
}

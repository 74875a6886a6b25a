import type { LeaseStats } from "../read-through/lease-stats.js";

/** What `cache.stats()` returns: counters since the runtime started, for one cache. */
export interface CacheStats {
  /** Reads answered from the in-process L1. */
  readonly l1Hits: number;
  /** Reads answered from the store (Redis, memory…). */
  readonly hits: number;
  /** Reads that found nothing (or only a stale value). */
  readonly misses: number;
  /** Cached values that failed the getOrSet schema: counted as misses, then replaced. */
  readonly schemaMisses: number;
  /** Cached bytes that are not a value of ours (counted as misses). */
  readonly corrupt: number;
  /** Loader runs (getOrSet and getManyOrSet leaders, background refreshes included). */
  readonly loads: number;
  /** getOrSet callers that joined a loader already running for their key. */
  readonly joined: number;
  /** Loader runs that threw or timed out. */
  readonly loadErrors: number;
  /** Stale values served within grace (loader failed, or soft timeout). */
  readonly staleServed: number;
  /** Hits elected by XFetch to recompute early. */
  readonly earlyRefreshes: number;
  /** Loaders that hit their soft / hard timeout. */
  readonly timeouts: TimeoutCounts;
  /** Store calls inside getOrSet that failed and were absorbed (the loader answered instead). */
  readonly storeErrors: number;
  /**
   * getOrSet's fill lease (README "Fill leases"), present once the route's `lease` is on or a call used one:
   * `granted` loader runs under a lease, `waits` for another process's fill and their `waitMs`, `holderTimeouts`
   * (maxWait passed), `graceServes`, `fallbacks` (own loader runs after a timeout), `lost` fills (a write voided the
   * lease), `refreshesSkipped` (early refreshes another process was doing).
   */
  readonly lease?: LeaseStats;
}

/** Loader timeouts by kind (CacheStats.timeouts). */
export interface TimeoutCounts {
  /** Stale values returned because the loader passed `timeout.soft`. */
  readonly soft: number;
  /** Loaders abandoned at `timeout.hard`. */
  readonly hard: number;
}

/** The mutable counters behind CacheStats. */
export class CacheCounters {
  l1Hits = 0;
  hits = 0;
  misses = 0;
  schemaMisses = 0;
  corrupt = 0;
  loads = 0;
  joined = 0;
  loadErrors = 0;
  staleServed = 0;
  earlyRefreshes = 0;
  softTimeouts = 0;
  hardTimeouts = 0;
  storeErrors = 0;

  snapshot(): CacheStats {
    return {
      l1Hits: this.l1Hits,
      hits: this.hits,
      misses: this.misses,
      schemaMisses: this.schemaMisses,
      corrupt: this.corrupt,
      loads: this.loads,
      joined: this.joined,
      loadErrors: this.loadErrors,
      staleServed: this.staleServed,
      earlyRefreshes: this.earlyRefreshes,
      timeouts: { soft: this.softTimeouts, hard: this.hardTimeouts },
      storeErrors: this.storeErrors,
    };
  }
}

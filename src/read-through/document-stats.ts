import type { L1Stats } from "../l1/l1-store.js";
import type { CoherenceStats } from "./coherence-stats.js";
import type { InvalidationLagStats } from "./invalidation-lag.js";
import type { LeaseStats } from "./lease-stats.js";

/** L2 counters of one document on one runtime. */
export interface L2Stats {
  /** Lookups answered by a fresh L2 entry. */
  readonly hits: number;
  /** Lookups that found nothing usable: absent, tombstoned, stale or corrupt. */
  readonly misses: number;
  /** Reads that failed or timed out and fell through to Postgres. */
  readonly errors: number;
  /** Entries that were undecodable, old-format or foreign (also counted as misses). */
  readonly corrupt: number;
  /** Entries found past their freshness (also counted as misses). */
  readonly stale: number;
}

/** Postgres and write-path counters of one document on one runtime. */
export interface SourceStats {
  /** Single-id reads from Postgres. */
  readonly fetches: number;
  /** `id = ANY($1)` reads from Postgres (one per getMany batch). */
  readonly batchFetches: number;
  /** Reads that joined a read of the same id already in flight (its L2 lookup or Postgres fetch) instead of starting one. */
  readonly collapsed: number;
  /** Fills after a Postgres read that landed in L2. */
  readonly fills: number;
  /** Fills (and write-throughs) refused by the fence because a newer version was already in L2. */
  readonly fillsRejected: number;
  /** Fills skipped or failed (store error, or a fetch too old to fill safely). */
  readonly fillsFailed: number;
  /** Post-commit writes of the new version (or tombstone) to L2. */
  readonly writeThroughs: number;
  /** Post-commit writes that failed and were handed to the retrier. */
  readonly writeThroughFailures: number;
  /**
   * Versions not cached because their body is over the cache's `maxValueBytes`: the fill is skipped, and a
   * write-through becomes a tombstone, so L2 never keeps an older version. Served from Postgres; not an error.
   */
  readonly tooLarge: number;
}

/** Early refresh (XFetch) and stale-if-error counters of one document on one runtime. */
export interface RefreshStats {
  /** Hits elected to recompute before expiry, by the reader itself. */
  readonly electedInline: number;
  /** Hits elected to recompute in the background (the reader got the cached value). */
  readonly electedBackground: number;
  /** Background elections dropped: the key was already refreshing, or the concurrency cap was reached. */
  readonly dropped: number;
  /** Refreshes (inline or background) whose Postgres read or fill failed. */
  readonly failures: number;
  /** Reads answered with an entry past its freshness (within grace) because Postgres failed. */
  readonly staleServes: number;
}

/** Counters of one document on one runtime (`query.stats()`, `runtime.stats().documents[name]`). */
export interface DocumentStats {
  /** Undefined when the document has no L1. */
  readonly l1: L1Stats | undefined;
  /** Lookups in the shared cache (Redis or memory). */
  readonly l2: L2Stats;
  /** Postgres reads and the fills and write-throughs that follow them. */
  readonly source: SourceStats;
  /** Early refresh and stale-if-error. */
  readonly refresh: RefreshStats;
  /** Push invalidation lag, stale serves and fence rejections. */
  readonly coherence: CoherenceStats;
  /** The fill lease; absent unless the cache spec has `lease` (and its backend supports it). */
  readonly lease?: LeaseStats;
}

/** The live counters behind DocumentStats (plain fields: incremented on hot paths). */
export class DocumentCounters {
  l2Hits = 0;
  l2Misses = 0;
  l2Errors = 0;
  l2Corrupt = 0;
  l2Stale = 0;
  fetches = 0;
  batchFetches = 0;
  collapsed = 0;
  fills = 0;
  fillsRejected = 0;
  fillsFailed = 0;
  writeThroughs = 0;
  writeThroughFailures = 0;
  tooLarge = 0;
  electedInline = 0;
  electedBackground = 0;
  refreshDropped = 0;
  refreshFailures = 0;
  staleServes = 0;
  /** Write-throughs the fence refused (also in fillsRejected). */
  writeThroughsRejected = 0;

  snapshot(l1: L1Stats | undefined, lag: InvalidationLagStats = NO_LAG): DocumentStats {
    return {
      l1,
      l2: {
        hits: this.l2Hits,
        misses: this.l2Misses,
        errors: this.l2Errors,
        corrupt: this.l2Corrupt,
        stale: this.l2Stale,
      },
      source: {
        fetches: this.fetches,
        batchFetches: this.batchFetches,
        collapsed: this.collapsed,
        fills: this.fills,
        fillsRejected: this.fillsRejected,
        fillsFailed: this.fillsFailed,
        writeThroughs: this.writeThroughs,
        writeThroughFailures: this.writeThroughFailures,
        tooLarge: this.tooLarge,
      },
      refresh: {
        electedInline: this.electedInline,
        electedBackground: this.electedBackground,
        dropped: this.refreshDropped,
        failures: this.refreshFailures,
        staleServes: this.staleServes,
      },
      coherence: {
        invalidationLag: lag,
        staleServes: { grace: this.staleServes, earlyRefresh: this.electedBackground },
        fenceRejections: {
          fills: this.fillsRejected - this.writeThroughsRejected,
          writeThroughs: this.writeThroughsRejected,
        },
      },
    };
  }
}

const NO_LAG: InvalidationLagStats = Object.freeze({
  samples: 0,
  discarded: 0,
  lastMs: undefined,
  maxMs: 0,
  meanMs: undefined,
});

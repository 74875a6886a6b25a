import type { Clock } from "../kernel/clock.js";
import type { DocumentEntry } from "../l2/document-entry.js";
import type { CacheSpec } from "../spec/document-spec.js";
import type { DocumentCounters } from "./document-stats.js";
import { xfetchElected } from "./xfetch.js";

/** How many expected XFetch leads before freshness ends an L1 copy lets go (P(elected) ≈ e^-L1_LEAD there). */
const L1_LEAD = 3;

/** How far another replica's clock may run ahead before its entries' freshness looks implausible. */
const CLOCK_SKEW_MS = 1_000;

/**
 * What a decodable L2 entry is worth: a hit; a hit that is also elected to refresh early (XFetch), by the reader
 * (`inline`) or detached (`background`); `stale` (past freshness: refetch, keep it only as a stale-if-error
 * fallback); or `foreign` — fresh for longer than any lifetime we give (forged or planted): a miss, never served,
 * never a fallback, and the fill that follows meets it in the fence, which bounds how long it can stay
 * (invariant 8). Each verdict is counted.
 */
export type Verdict = "hit" | "background" | "inline" | "stale" | "foreign";

export class FreshnessJudge {
  readonly #beta: number;
  readonly #background: boolean;
  /** No entry we write is fresh for longer than this from now. */
  readonly #maxFreshAheadMs: number;

  constructor(
    cache: CacheSpec | undefined,
    /** The longest freshness the lifetime policy gives (LifetimePolicy.freshMs). */
    freshMs: number,
    /** Whether a background refresher exists to take background elections. */
    canRefreshInBackground: boolean,
    private readonly clock: Clock,
    private readonly counters: DocumentCounters,
  ) {
    this.#beta = cache?.earlyRefresh?.beta ?? 0;
    this.#background = cache?.earlyRefresh?.background === true && canRefreshInBackground;
    this.#maxFreshAheadMs = freshMs + CLOCK_SKEW_MS;
  }

  judge(entry: DocumentEntry, now: number): Verdict {
    if (entry.freshUntil - now > this.#maxFreshAheadMs) {
      this.counters.l2Corrupt++;
      this.counters.l2Misses++;
      return "foreign";
    }
    if (entry.freshUntil <= now) {
      this.counters.l2Stale++;
      this.counters.l2Misses++;
      return "stale";
    }
    this.counters.l2Hits++;
    if (this.#beta > 0 && xfetchElected(now, entry.delta, this.#beta, this.clock.random(), entry.freshUntil)) {
      if (this.#background) {
        this.counters.electedBackground++;
        return "background";
      }
      this.counters.electedInline++;
      return "inline";
    }
    return "hit";
  }

  /**
   * Until when L1 may serve this entry. With early refresh, L1 lets go a few expected recompute leads
   * (`L1_LEAD × beta × delta`) before freshness ends, so the last reads before expiry reach L2 and can be elected;
   * otherwise every L1 would expire exactly at the horizon and XFetch would never get a say.
   */
  l1Horizon(entry: DocumentEntry): number {
    if (this.#beta === 0 || entry.delta === 0) return entry.freshUntil;
    return entry.freshUntil - L1_LEAD * this.#beta * entry.delta;
  }
}

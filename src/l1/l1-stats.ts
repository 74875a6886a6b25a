import type { L1Stats } from "./l1-store.js";

/** What a store counts; the hit rate is derived. */
export type L1Counters = Omit<L1Stats, "hitRate">;

/** A frozen snapshot of a store's counters, with `hitRate` = hits / (hits + misses), 0 before any lookup. */
export function toL1Stats(counters: L1Counters): L1Stats {
  const lookups = counters.hits + counters.misses;
  return Object.freeze({
    size: counters.size,
    capacity: counters.capacity,
    hits: counters.hits,
    misses: counters.misses,
    evictions: counters.evictions,
    expirations: counters.expirations,
    invalidations: counters.invalidations,
    hitRate: lookups === 0 ? 0 : counters.hits / lookups,
  });
}

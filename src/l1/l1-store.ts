/** Counters of one in-process store. `hitRate` is hits / (hits + misses), 0 before the first lookup. */
export interface L1Stats {
  /** Entries held now, including expired ones not yet looked up (expiry is lazy). */
  readonly size: number;
  /** The most entries the store holds before it evicts. */
  readonly capacity: number;
  /** Lookups that returned a live value. */
  readonly hits: number;
  /** Lookups that returned nothing, expired entries included. */
  readonly misses: number;
  /** Entries the policy dropped to stay within capacity. */
  readonly evictions: number;
  /** Entries found expired on lookup. */
  readonly expirations: number;
  /** Entries removed by `invalidate` (writes, push invalidation). */
  readonly invalidations: number;
  /** hits / (hits + misses); 0 before the first lookup. */
  readonly hitRate: number;
}

/**
 * The in-process tier. Synchronous by contract: a hit must not allocate and must not await.
 * Keys are strings; values are stored by reference (the document L1 keeps frozen objects).
 */
export interface L1Store<V = unknown> {
  /** The live value, or `undefined` on a miss. An expired entry is a miss, counted as an expiration. */
  get(key: string): V | undefined;
  /**
   * The live value without counting a lookup or touching recency or frequency — for the library's own checks
   * (e.g. after a background refresh), so they do not skew stats or the policy. Optional for custom stores.
   */
  peek?(key: string): V | undefined;
  /**
   * Like `get`, counted the same, but the value as a promise already settled to it: kept with the entry from its
   * second such lookup until the entry is replaced or removed (the first hands out a promise of its own, so an entry
   * read once holds none). The async read path's L1 hit — awaiting a settled promise allocates nothing and is faster
   * in V8 than awaiting a fresh `Promise.resolve(value)` — for ~57 bytes per entry read more than once this way.
   * Optional for custom stores (the library then wraps `get` in `Promise.resolve`).
   */
  getSettled?(key: string): Promise<V> | undefined;
  /** Stores `value`; `ttlMs` (when given) shortens the store's default lifetime for this entry. */
  set(key: string, value: V, ttlMs?: number): void;
  /** Removes `key`; returns whether an entry was removed. Counted as an invalidation when it was. */
  invalidate(key: string): boolean;
  /** Removes every entry (counters are kept). */
  clear(): void;
  /** Entries held now (see L1Stats.size). */
  readonly size: number;
  /** The most entries the store holds before it evicts. */
  readonly capacity: number;
  /** A snapshot of the counters. */
  stats(): L1Stats;
}

/** What a store is built from. `ttlMs` is the default (and maximum) lifetime; absent means no expiry. */
export interface L1StoreOptions {
  /** Maximum number of entries, already checked: an integer >= 1 (>= 2 for tinylfu). */
  readonly capacity: number;
  /** Default and maximum entry lifetime in milliseconds; absent means entries never expire. */
  readonly ttlMs?: number;
  /** Milliseconds clock; defaults to `performance.now`. Injected by tests and by the runtime's clock. */
  readonly now?: () => number;
}

/** A custom policy: builds a store from the resolved L1 options. */
export type L1StoreFactory = (options: L1StoreOptions) => L1Store;

/** The built-in eviction policies: least-recently-used, or W-TinyLFU (frequency-aware admission, scan-resistant). */
export type L1PolicyName = "lru" | "tinylfu";

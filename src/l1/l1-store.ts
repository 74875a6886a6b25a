/** Counters of one in-process store. `hitRate` is hits / (hits + misses), 0 before the first lookup. */
export interface L1Stats {
  readonly size: number;
  readonly capacity: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly expirations: number;
  readonly invalidations: number;
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
  /** Stores `value`; `ttlMs` (when given) shortens the store's default lifetime for this entry. */
  set(key: string, value: V, ttlMs?: number): void;
  /** Removes `key`; returns whether an entry was removed. Counted as an invalidation when it was. */
  invalidate(key: string): boolean;
  /** Removes every entry (counters are kept). */
  clear(): void;
  readonly size: number;
  readonly capacity: number;
  stats(): L1Stats;
}

/** What a store is built from. `ttlMs` is the default (and maximum) lifetime; absent means no expiry. */
export interface L1StoreOptions {
  readonly capacity: number;
  readonly ttlMs?: number;
  /** Milliseconds clock; defaults to `performance.now`. Injected by tests and by the runtime's clock. */
  readonly now?: () => number;
}

/** A custom policy: builds a store from the resolved L1 options. */
export type L1StoreFactory = (options: L1StoreOptions) => L1Store;

export type L1PolicyName = "lru" | "tinylfu";

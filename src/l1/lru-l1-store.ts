import { LRUCache } from "lru-cache";
import { checkL1StoreOptions } from "./check-l1-store-options.js";
import { toL1Stats } from "./l1-stats.js";
import type { L1Stats, L1Store, L1StoreOptions } from "./l1-store.js";

/**
 * Least-recently-used L1, a thin counting layer over `lru-cache`.
 *
 * Expiry follows lru-cache: an entry set at `t` with lifetime `ttl` is live while `now - t <= ttl`, and is
 * dropped (as an expiration) when a lookup finds it dead. Dead entries still occupy a slot until then
 * or until evicted; `size` counts them.
 */
export class LruL1Store<V = unknown> implements L1Store<V> {
  readonly capacity: number;
  readonly #cache: LRUCache<string, V & {}>;
  readonly #ttlMs: number;
  // lru-cache fills in a `status` field on its options argument, and allocates one when none is passed:
  // reuse one object per store so that a hit allocates nothing.
  readonly #getOptions: LRUCache.GetOptions<string, V & {}, unknown> = {};
  readonly #setOptions: LRUCache.SetOptions<string, V & {}, unknown> = { ttl: 0 };
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;
  #invalidations = 0;

  constructor(options: L1StoreOptions) {
    const { capacity, ttlMs, now } = checkL1StoreOptions(options, 1);
    this.capacity = capacity;
    this.#ttlMs = ttlMs;
    // lru-cache treats a start time of 0 as "no ttl": shift the clock so that it starts at 1.
    const origin = now();
    this.#cache = new LRUCache<string, V & {}>({
      max: capacity,
      ttl: ttlMs === Number.POSITIVE_INFINITY ? 0 : ttlMs,
      // 0: read the clock on every check. The default (1) caches it behind a timer per read, which both
      // allocates and hides an injected clock's jumps.
      ttlResolution: 0,
      perf: { now: () => Math.max(1, now() - origin + 1) },
      noDisposeOnSet: true,
      dispose: (_value, _key, reason) => {
        if (reason === "evict") this.#evictions++;
        else if (reason === "expire") this.#expirations++;
      },
    });
  }

  get size(): number {
    return this.#cache.size;
  }

  get(key: string): V | undefined {
    const value = this.#cache.get(key, this.#getOptions);
    if (value === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return value;
  }

  peek(key: string): V | undefined {
    return this.#cache.peek(key); // lru-cache's peek: no recency update, and a stale entry reads as undefined
  }

  /**
   * `undefined` is not storable (lru-cache treats it as a delete), and a `ttlMs` that is not positive
   * means the value is already dead: both just drop any entry for `key`, uncounted.
   */
  set(key: string, value: V, ttlMs?: number): void {
    let ttl = this.#ttlMs;
    if (ttlMs !== undefined) {
      if (!(ttlMs > 0)) {
        this.#cache.delete(key);
        return;
      }
      if (ttlMs < ttl) ttl = ttlMs;
    }
    this.#setOptions.ttl = ttl === Number.POSITIVE_INFINITY ? 0 : ttl;
    this.#cache.set(key, value as V & {}, this.#setOptions);
  }

  invalidate(key: string): boolean {
    const removed = this.#cache.delete(key);
    if (removed) this.#invalidations++;
    return removed;
  }

  clear(): void {
    this.#cache.clear();
  }

  stats(): L1Stats {
    return toL1Stats({
      size: this.#cache.size,
      capacity: this.capacity,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
      invalidations: this.#invalidations,
    });
  }
}

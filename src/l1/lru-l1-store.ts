import { LRUCache } from "lru-cache";
import { checkL1StoreOptions } from "./check-l1-store-options.js";
import { toL1Stats } from "./l1-stats.js";
import type { L1Stats, L1Store, L1StoreOptions } from "./l1-store.js";

/**
 * Least-recently-used L1, a thin counting layer over `lru-cache`.
 *
 * Expiry is ours, not lru-cache's: each value sits in a small slot with its deadline, checked against `now()` on
 * a hit. lru-cache's own TTL bookkeeping costs more per hit than the whole lookup without it. An entry set at `t`
 * with lifetime `ttl` is live while `now <= t + ttl`, and is dropped (as an expiration) when a lookup finds it dead.
 * Dead entries still occupy a slot until then or until evicted; `size` counts them.
 */
export class LruL1Store<V = unknown> implements L1Store<V> {
  readonly capacity: number;
  readonly #cache: LRUCache<string, Slot<V>>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  // lru-cache fills in a `status` field on its options argument, and allocates one when none is passed:
  // reuse one object per store so that a hit allocates nothing.
  readonly #getOptions: LRUCache.GetOptions<string, Slot<V>, unknown> = {};
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;
  #invalidations = 0;

  constructor(options: L1StoreOptions) {
    const { capacity, ttlMs, now } = checkL1StoreOptions(options, "lru");
    this.capacity = capacity;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#cache = new LRUCache<string, Slot<V>>({
      max: capacity,
      noDisposeOnSet: true,
      dispose: (_value, _key, reason) => {
        if (reason === "evict") this.#evictions++;
      },
    });
  }

  get size(): number {
    return this.#cache.size;
  }

  get(key: string): V | undefined {
    const slot = this.#cache.get(key, this.#getOptions);
    if (slot === undefined) {
      this.#misses++;
      return undefined;
    }
    if (slot.expiresAt !== Number.POSITIVE_INFINITY && slot.expiresAt < this.#now()) {
      this.#cache.delete(key);
      this.#expirations++;
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return slot.value;
  }

  peek(key: string): V | undefined {
    const slot = this.#cache.peek(key); // no recency update
    if (slot === undefined) return undefined;
    if (slot.expiresAt !== Number.POSITIVE_INFINITY && slot.expiresAt < this.#now()) return undefined;
    return slot.value;
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
    if (value === undefined) {
      this.#cache.delete(key);
      return;
    }
    const expiresAt = ttl === Number.POSITIVE_INFINITY ? ttl : this.#now() + ttl;
    this.#cache.set(key, { value, expiresAt });
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

/** A value and its deadline (ms on the store's clock; +Infinity for none). */
interface Slot<V> {
  readonly value: V;
  readonly expiresAt: number;
}

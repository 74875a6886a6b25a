import { checkL1StoreOptions } from "./check-l1-store-options.js";
import { toL1Stats } from "./l1-stats.js";
import type { L1Stats, L1Store, L1StoreOptions } from "./l1-store.js";
import { LinkedSlots } from "./linked-slots.js";
import { SettledValues } from "./settled-values.js";

// Lists of `LinkedSlots`: resident entries, least recently used first; and slots freed by a removal.
const RESIDENT = 0;
const FREE = 1;

/**
 * Least-recently-used L1, laid out like lru-cache (a Map from key to slot, the keys and values in arrays, the
 * recency order in typed-array links) plus each entry's deadline in a Float64Array — so an entry costs no object
 * of its own: a wrapper per entry (value + deadline) cost ~56 bytes and a pointer chase on every hit.
 *
 * Expiry is checked against `now()` on a hit: an entry set at `t` with lifetime `ttl` is live while
 * `now <= t + ttl`, and is dropped (as an expiration) when a lookup finds it dead. Dead entries occupy a slot
 * until then or until evicted; `size` counts them. Slots are handed out in order, then reused from the free list,
 * so a store that never fills touches only what it uses; a hit and an overwrite allocate nothing (getSettled's promise is
 * made once per entry, on its second async hit: see SettledValues).
 */
export class LruL1Store<V = unknown> implements L1Store<V> {
  readonly capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #index = new Map<string, number>();
  readonly #keys: Array<string | undefined>;
  readonly #values: Array<V | undefined>;
  readonly #settled: SettledValues<V>;
  readonly #expiresAt: Float64Array;
  readonly #lists: LinkedSlots;
  /** Slots below this have been handed out (they are resident or on the free list). */
  #used = 0;
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
    this.#keys = new Array<string | undefined>(capacity).fill(undefined);
    this.#values = new Array<V | undefined>(capacity).fill(undefined);
    this.#expiresAt = new Float64Array(capacity);
    this.#lists = new LinkedSlots(capacity, 2);
    this.#settled = new SettledValues<V>(capacity);
  }

  get size(): number {
    return this.#index.size;
  }

  get(key: string): V | undefined {
    const slot = this.#lookup(key);
    return slot < 0 ? undefined : this.#values[slot];
  }

  getSettled(key: string): Promise<V> | undefined {
    const slot = this.#lookup(key);
    return slot < 0 ? undefined : this.#settled.of(slot, this.#values[slot] as V);
  }

  peek(key: string): V | undefined {
    const slot = this.#index.get(key); // no recency update
    if (slot === undefined) return undefined;
    const expiresAt = this.#expiresAt[slot]!;
    if (expiresAt !== Number.POSITIVE_INFINITY && expiresAt < this.#now()) return undefined;
    return this.#values[slot];
  }

  /**
   * `ttlMs` shortens the default lifetime for this entry (never lengthens it). A `ttlMs` that is not positive
   * means the value is already dead, and an undefined `value` is not storable: both just drop any entry for `key`,
   * uncounted. Overwriting a resident key makes it the most recently used.
   */
  set(key: string, value: V, ttlMs?: number): void {
    let ttl = this.#ttlMs;
    if (ttlMs !== undefined && !(ttlMs >= ttl)) ttl = ttlMs; // NaN too: it then deletes, below
    if (!(ttl > 0) || value === undefined) {
      const slot = this.#index.get(key);
      if (slot !== undefined) this.#remove(slot);
      return;
    }
    const expiresAt = ttl === Number.POSITIVE_INFINITY ? ttl : this.#now() + ttl;
    let slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#lists.moveToEnd(RESIDENT, slot);
    } else {
      slot = this.#freeSlot();
      this.#keys[slot] = key;
      this.#index.set(key, slot);
      this.#lists.append(RESIDENT, slot);
    }
    this.#values[slot] = value;
    this.#settled.drop(slot);
    this.#expiresAt[slot] = expiresAt;
  }

  invalidate(key: string): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;
    this.#remove(slot);
    this.#invalidations++;
    return true;
  }

  clear(): void {
    this.#index.clear();
    this.#keys.fill(undefined, 0, this.#used);
    this.#values.fill(undefined, 0, this.#used);
    this.#settled.clear();
    this.#lists.clear();
    this.#used = 0;
  }

  stats(): L1Stats {
    return toL1Stats({
      size: this.#index.size,
      capacity: this.capacity,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
      invalidations: this.#invalidations,
    });
  }

  /** The slot of `key`'s live entry, counted as a hit (and made most recent), or -1 (a miss; a dead entry goes). */
  #lookup(key: string): number {
    const slot = this.#index.get(key);
    if (slot === undefined) {
      this.#misses++;
      return -1;
    }
    const expiresAt = this.#expiresAt[slot]!;
    if (expiresAt !== Number.POSITIVE_INFINITY && expiresAt < this.#now()) {
      this.#remove(slot);
      this.#expirations++;
      this.#misses++;
      return -1;
    }
    this.#hits++;
    this.#lists.moveToEnd(RESIDENT, slot);
    return slot;
  }

  /** A slot for a new entry: never used yet, else freed, else the least recently used entry's (an eviction). */
  #freeSlot(): number {
    if (this.#used < this.capacity) return this.#used++;
    const lists = this.#lists;
    let slot = lists.first(FREE);
    if (slot < 0) {
      slot = lists.first(RESIDENT);
      this.#index.delete(this.#keys[slot]!);
      this.#evictions++;
    }
    lists.unlink(slot);
    return slot;
  }

  #remove(slot: number): void {
    this.#index.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#settled.drop(slot);
    this.#lists.moveToEnd(FREE, slot);
  }
}

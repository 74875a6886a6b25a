import { LinkedSlots } from "./linked-slots.js";

/** The shadow keeps at least this many keys (all of them for smaller caches), so its sample is not too thin. */
const MIN_SHADOW_KEYS = 1024;

/**
 * What plain LRU would have hit, for the adaptive window of TinyLfuL1Store to compare itself against: an LRU
 * of key hashes only (no values), fed the same lookups as the store.
 *
 * Large caches track a spatial sample of the keys, as in SHARDS (Waldspurger et al., "Efficient MRC
 * Construction with SHARDS", FAST 2015) and miniature simulation (the same authors, USENIX ATC 2017): a key
 * takes part when the top bits of its hash are zero (rate 2^-s), and the shadow holds capacity × 2^-s
 * hashes — about 1,000 to 2,000 whatever the capacity, so its cost per lookup and its memory stay small.
 * The store counts its own hits on the same sampled lookups, so the two hit counts are paired.
 *
 * Hashes stand for keys: two keys with one hash share a shadow entry, which skews the estimate by a hair.
 * Everything is preallocated; `access` allocates nothing.
 */
export class ShadowLru {
  /** Capacity of the shadow: the store's capacity scaled by the sampling rate. */
  readonly capacity: number;
  /** A hash takes part in the sample when `(hash & sampleMask) === 0`. */
  readonly sampleMask: number;
  readonly #hashes: Int32Array;
  /** Open addressing, linear probing: slot + 1, 0 for empty. */
  readonly #table: Int32Array;
  readonly #tableMask: number;
  readonly #lru: LinkedSlots;
  /** Slots given up by `remove`, reused before the LRU entry is evicted. */
  readonly #free: Int32Array;
  /** 1 for a slot in the free list: its stale hash must not satisfy `touch`. */
  readonly #dead: Uint8Array;
  #freeCount = 0;
  #size = 0;

  constructor(storeCapacity: number) {
    let shift = 0;
    while (shift < 16 && storeCapacity / 2 ** (shift + 1) >= MIN_SHADOW_KEYS) shift++;
    this.sampleMask = shift === 0 ? 0 : (0xffffffff << (32 - shift)) | 0;
    this.capacity = Math.max(1, Math.round(storeCapacity / 2 ** shift));
    this.#hashes = new Int32Array(this.capacity);
    const tableSize = 2 ** Math.ceil(Math.log2(this.capacity * 2 + 1));
    this.#table = new Int32Array(tableSize);
    this.#tableMask = tableSize - 1;
    this.#lru = new LinkedSlots(this.capacity, 1);
    this.#free = new Int32Array(this.capacity);
    this.#dead = new Uint8Array(this.capacity);
  }

  /**
   * The fast path of a lookup: when the key with hash `h` is the one held at `slot` (a slot an earlier `access`
   * returned for it), refreshes it and returns true; otherwise returns false and the caller uses `access`.
   */
  touch(slot: number, h: number): boolean {
    if (slot >= this.#size || this.#hashes[slot] !== h || this.#dead[slot] === 1) return false;
    this.#lru.moveToEnd(0, slot);
    return true;
  }

  /**
   * Records a lookup of the (sampled) key with hash `h`: returns `slot * 2 + 1` when LRU would have hit it,
   * `slot * 2` when not (it is now held at `slot`), so the caller can remember the slot for `touch`.
   */
  access(h: number): number {
    const table = this.#table;
    const mask = this.#tableMask;
    let i = h & mask;
    for (let entry = table[i]!; entry !== 0; entry = table[i]!) {
      if (this.#hashes[entry - 1] === h) {
        this.#lru.moveToEnd(0, entry - 1);
        return ((entry - 1) << 1) | 1;
      }
      i = (i + 1) & mask;
    }
    let slot: number;
    if (this.#freeCount > 0) {
      slot = this.#free[--this.#freeCount]!;
    } else if (this.#size < this.capacity) {
      slot = this.#size++;
    } else {
      slot = this.#lru.first(0);
      this.#lru.unlink(slot);
      this.#deleteFromTable(slot);
      // The deletion may have shifted entries back: find the free cell for `h` again.
      i = h & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
    }
    this.#hashes[slot] = h;
    this.#dead[slot] = 0;
    table[i] = slot + 1;
    this.#lru.append(0, slot);
    return slot << 1;
  }

  /** Forgets the key with hash `h` (invalidated or expired: LRU would not have it either). */
  remove(h: number): void {
    const table = this.#table;
    const mask = this.#tableMask;
    for (let i = h & mask, entry = table[i]!; entry !== 0; i = (i + 1) & mask, entry = table[i]!) {
      if (this.#hashes[entry - 1] === h) {
        this.#lru.unlink(entry - 1);
        this.#deleteFromTable(entry - 1);
        this.#dead[entry - 1] = 1;
        this.#free[this.#freeCount++] = entry - 1;
        return;
      }
    }
  }

  /** Forgets every key. */
  clear(): void {
    this.#table.fill(0);
    this.#lru.clear();
    this.#size = 0;
    this.#freeCount = 0;
  }

  /** Linear probing's deletion by backward shift: no tombstones, so lookups stay short forever. */
  #deleteFromTable(slot: number): void {
    const table = this.#table;
    const mask = this.#tableMask;
    let i = this.#hashes[slot]! & mask;
    while (table[i] !== slot + 1) i = (i + 1) & mask;
    let hole = i;
    for (let j = (hole + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.#hashes[table[j]! - 1]! & mask;
      // Move the entry at j into the hole unless its home lies cyclically in (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        table[hole] = table[j]!;
        hole = j;
      }
    }
    table[hole] = 0;
  }
}

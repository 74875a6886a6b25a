/**
 * A string-keyed Map for a long-lived owner whose entries come and go by the batch (the L1 fill tokens).
 *
 * A Map that grows and shrinks by a batch's keys on every batch reallocates its backing table each time, and the
 * table of a long-lived Map lives in the old generation: a warm getMany(100) loop grew it by ~6.8 MB between two
 * scavenges (~600 batches: ~11 KB a batch, by that estimate), and the full GCs to collect it. Here a key that goes is emptied — its entry set to `idle` — not deleted, so keys that come back
 * reuse their entries; once more than `kept` entries are idle, and more than are in use, one sweep deletes them all.
 */
export class ChurnMap<V> {
  readonly #map = new Map<string, V>();
  /** Entries holding `idle`, and how often they were swept (tests bound both). */
  #idle = 0;
  #sweeps = 0;

  constructor(
    /** The value of an emptied entry: never a value the owner stores. */
    private readonly idle: V,
    /** Idle entries kept before a sweep: each about 80 bytes (the entry, and its key unless it lives on elsewhere). */
    private readonly kept = 1024,
  ) {}

  /** The value of `key`, or undefined when it has none (never set, deleted or swept). */
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    return value === this.idle ? undefined : value;
  }

  set(key: string, value: V): void {
    if (this.#map.get(key) === this.idle) this.#idle--;
    this.#map.set(key, value);
  }

  delete(key: string): void {
    const value = this.#map.get(key);
    if (value === undefined || value === this.idle) return;
    this.#empty(key);
  }

  /** Empties the entry of `key`, which holds a value; sweeps when too many are idle. */
  #empty(key: string): void {
    this.#map.set(key, this.idle);
    if (++this.#idle > this.kept && this.#idle > this.#map.size - this.#idle) {
      for (const [k, v] of this.#map) if (v === this.idle) this.#map.delete(k);
      this.#idle = 0;
      this.#sweeps++;
    }
  }

  clear(): void {
    this.#map.clear();
    this.#idle = 0;
  }

  /** Entries held, in use or idle. */
  get entries(): number {
    return this.#map.size;
  }

  get sweeps(): number {
    return this.#sweeps;
  }
}

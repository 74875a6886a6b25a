import type { KeyValueLeases } from "./key-value-lease.js";

/**
 * The backend port of the cache API (src/cache/): one namespace's key/value entries, with every operation that must
 * be atomic as a primitive of the backend (a Lua script on Redis, one synchronous step in memory, one SQL statement on
 * Postgres). Keys are the caller's keys (already checked by kv-input.ts), relative to the namespace; values are the
 * value codec's bytes (cache-value-codec.ts). Generations and tag versions (kv-envelope.ts) are the backend's
 * business: a read never returns an entry written before a `clear()` or before an `invalidateTags` of one of its
 * tags. Failures reject with a StrataError (UNAVAILABLE), never a driver error.
 */
export interface KeyValueStore {
  /** "redis", "memory", "null", "postgres"…: what stores the entries. */
  readonly kind: string;
  /**
   * Fill leases for `getOrSet` (key-value-lease.ts); absent on backends without them (Postgres, null), where a
   * leased `getOrSet` runs unleased. Where present, `write`, `add`, `remove` and `pull` drop the key's lease.
   */
  readonly leases?: KeyValueLeases;
  /** The live entry of each key, in order (one round trip where the backend allows). */
  read(keys: ReadonlyArray<string>): Promise<Array<StoredEntry | undefined>>;
  /** Writes every entry (each with its own lifetime), stamped with the current generation and tag versions. */
  write(entries: ReadonlyArray<EntryWrite>): Promise<void>;
  /** Writes `entry` only if its key holds no live entry; whether it wrote. Atomic. */
  add(entry: EntryWrite): Promise<boolean>;
  /** Removes the key and returns the live entry it held. Atomic: of racing pulls, one gets the entry. */
  pull(key: string): Promise<StoredEntry | undefined>;
  /** How many of the keys held an entry (live or not) before they were removed. */
  remove(keys: ReadonlyArray<string>): Promise<number>;
  /** Gives a live entry a new lifetime from now; false when there is none. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** The remaining lifetime of a live entry in ms, or undefined when there is none. */
  ttl(key: string): Promise<number | undefined>;
  /**
   * Adds `by` to the integer counter at `key` and returns the result, atomically. An absent (or cleared) counter
   * starts at 0 and lives `ttlMs`; an existing one keeps its lifetime. The result is clamped to `floor`/`ceiling`
   * when given. A key holding another value rejects with ValidationError (`not_a_counter`); a result outside
   * ±(2^53 − 1) with ValidationError (`overflow`), leaving the counter as it was.
   */
  increment(key: string, by: number, ttlMs: number, floor?: number, ceiling?: number): Promise<number>;
  /** Makes every entry carrying one of the tags a miss, in O(number of tags). */
  invalidateTags(tags: ReadonlyArray<string>): Promise<void>;
  /** Makes every entry of the namespace a miss, without a key scan (the generation moves on). */
  clear(): Promise<void>;
}

/** A live entry as read. */
export interface StoredEntry {
  /** The value codec's bytes. */
  readonly value: Buffer;
  /** Epoch ms after which the value is stale (grace); 0 = fresh until it expires. */
  readonly freshUntil: number;
  /** How long the loader took to compute it, ms (XFetch); 0 when unknown. */
  readonly deltaMs: number;
}

/** One entry to write. */
export interface EntryWrite {
  readonly key: string;
  /** The value codec's bytes. */
  readonly value: Buffer;
  /** Lifetime in the backend, ms (a getOrSet entry lives `ttl + grace`). */
  readonly ttlMs: number;
  /** See StoredEntry.freshUntil; 0 by default. */
  readonly freshUntil?: number;
  /** See StoredEntry.deltaMs; 0 by default. */
  readonly deltaMs?: number;
  /** Tags the entry carries (checked: kv-input.ts). */
  readonly tags?: ReadonlyArray<string>;
}

/** Largest value a counter may hold: beyond it a double no longer counts by one. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

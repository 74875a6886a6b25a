import type { Duration } from "../kernel/duration.js";

/** A value the key/value port stores: anything JSON can carry, or raw bytes (returned as a Uint8Array). */
export type CacheValue = unknown;

/**
 * Per-write options of CachePort.set and CachePort.setMany. Absent, or a plain object with only these keys:
 * anything else (`null`, a bare `"5m"`, a typo) is a ValidationError.
 */
export interface CacheSetOptions {
  /**
   * Lifetime of the entry.
   * @default the cache's `ttl`
   */
  readonly ttl?: Duration;
}

/**
 * The raw key/value port of one cache namespace (`ctx.cache(spec.cache | name)`), for data that is not a document.
 * Keys live under `<namespace>:kv:` so they never collide with document entries. Unlike document reads, these calls
 * reject (with a StrataError of code "UNAVAILABLE") when the store fails: the caller asked the cache directly.
 */
export interface CachePort {
  /** The stored value, or `undefined` when the key is absent or expired. `T` is not checked: it is your claim. */
  get<T = CacheValue>(key: string): Promise<T | undefined>;
  /** One result per key, in order, in one round trip per hash slot. */
  getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>>;
  /** Whether the key holds a live value. */
  exists(key: string): Promise<boolean>;
  /** Stores `value` under `key`, replacing any previous value. */
  set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void>;
  /** Stores every entry, all with the same lifetime. */
  setMany(entries: ReadonlyArray<readonly [key: string, value: CacheValue]>, options?: CacheSetOptions): Promise<void>;
  /** Whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** How many of the keys existed. */
  deleteMany(keys: ReadonlyArray<string>): Promise<number>;
}

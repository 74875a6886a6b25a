import type { z } from "zod";
import type { CacheLock } from "../coordination/cache-lock.js";
import type { LockOptions, RateLimitOptions, WithLockOptions } from "../coordination/coordination-input.js";
import type { RateLimitResult } from "../coordination/rate-limit-model.js";
import type { Duration } from "../kernel/duration.js";
import type { CachePort, CacheValue } from "../l2/cache-port.js";
import type { CacheOperationListener, CacheOperationOptions } from "./cache-operation.js";
import type { CacheStats } from "./cache-stats.js";

/**
 * Options of `set`, `add` and each entry of `setMany`: absent, or a plain object with only these keys (anything
 * else is a ValidationError, nothing written).
 */
export interface CacheWriteOptions {
  /**
   * Lifetime of the entry.
   * @default the cache's `ttl` (5 minutes for `cache(name)`, the spec's for `cache(spec.cache)`)
   */
  readonly ttl?: Duration;
  /**
   * Tags the entry carries: `invalidateTags([tag])` makes it a miss. Each a non-empty string of at most 256
   * characters without `|` or control characters; at most 64 per entry.
   */
  readonly tags?: ReadonlyArray<string>;
}

/** Options of `increment` and `decrement`. */
export interface CounterOptions {
  /**
   * Lifetime given to the counter when this call creates it; an existing counter keeps its own.
   * @default the cache's `ttl`
   */
  readonly ttl?: Duration;
  /** The result never goes below this (it is clamped). An integer. */
  readonly floor?: number;
  /** The result never goes above this (it is clamped). An integer. */
  readonly ceiling?: number;
}

/** XFetch early refresh of `getOrSet` (see `earlyRefresh`). */
export interface EarlyRefreshOptions {
  /**
   * How eagerly: the larger, the earlier a hit is elected to recompute before expiry (XFetch's beta).
   * @default 1
   */
  readonly beta?: number;
  /**
   * `true`: the elected hit returns the cached value at once and the loader runs in the background (at most one
   * per key, bounded by the runtime's `refreshConcurrency`); `false`: the elected caller waits for the loader (and
   * gets the cached value if the loader fails).
   * @default true
   */
  readonly background?: boolean;
}

/** `getOrSet`'s bounds on a loader (see GetOrSetOptions.timeout). */
export interface LoaderTimeouts {
  /** With a stale value at hand, return it after this long; the loader goes on and fills the cache. */
  readonly soft?: Duration;
  /** Abandon the loader after this long (its signal fires): the stale value if any, else TimeoutError. */
  readonly hard?: Duration;
}

/** What a `getOrSet` loader receives. */
export interface LoaderContext<T> {
  /** Fires when the hard timeout passes (or the runtime stops): stop the work, its result is ignored. */
  readonly signal: AbortSignal;
  /** The stale value kept for grace, when there is one (e.g. to send a conditional request). */
  readonly stale: T | undefined;
}

/** Computes a value on a miss. Its error is thrown to the caller (and never cached). */
export type Loader<T> = (context: LoaderContext<T>) => T | Promise<T>;

/** Options of `getOrSet` / `remember` (and `getManyOrSet`). Every one is optional and checked at the call. */
export interface GetOrSetOptions<T> {
  /**
   * How long a loaded value is fresh.
   * @default the cache's `ttl`
   */
  readonly ttl?: Duration;
  /**
   * Stale-if-error: how long past `ttl` the value is kept to stand in when the loader fails or times out.
   * @default no grace
   */
  readonly grace?: Duration;
  /** Recompute before expiry (XFetch): `true` = `{ beta: 1, background: true }`. @default false */
  readonly earlyRefresh?: boolean | EarlyRefreshOptions;
  /**
   * `soft`: with a stale value at hand, return it once the loader has run this long (the loader finishes in the
   * background and fills the cache). `hard`: give up on the loader after this long — stale value if any, else
   * TimeoutError ("TIMEOUT").
   */
  readonly timeout?: LoaderTimeouts;
  /** This caller stops waiting when it fires (AbortError); a loader shared with other callers goes on. */
  readonly signal?: AbortSignal;
  /**
   * zod schema of the value: a cached value that fails it is a miss (counted in `stats().schemaMisses`) and is
   * replaced; a loaded value that fails it is a ValidationError (nothing cached).
   */
  readonly schema?: z.ZodType<T>;
  /** Tags of the stored value (see CacheWriteOptions.tags). */
  readonly tags?: ReadonlyArray<string>;
  /**
   * Cache a loader's `undefined` (negative caching) for `notFoundTtl`.
   * @default false
   */
  readonly cacheUndefined?: boolean;
  /**
   * Lifetime of a cached `undefined`; setting it turns `cacheUndefined` on.
   * @default `ttl`
   */
  readonly notFoundTtl?: Duration;
  /**
   * The distributed fill lease for this call (README "Fill leases"): on a miss only one caller across every
   * process runs the loader; the others wait for its fill, at most `maxWait`. `true`/`false` override the route's
   * `lease`; `{ maxWait }` turns it on with this wait. Ignored on backends without leases (Postgres, null) and by
   * getManyOrSet.
   * @default the route's `lease` (off unless the route sets it)
   */
  readonly lease?: boolean | GetOrSetLeaseOptions;
}

/** A getOrSet call's fill lease (GetOrSetOptions.lease). */
export interface GetOrSetLeaseOptions {
  /**
   * Longest wait for another process's fill; then grace data if any, else this caller's own loader run.
   * @default the route's `lease.maxWait` (2 seconds)
   */
  readonly maxWait?: Duration;
}

/** Loads the values of the keys that missed, in one go: a Map, a Record, or an array in the order of `keys`. */
export type BatchLoader<T> = (
  keys: ReadonlyArray<string>,
  context: { readonly signal: AbortSignal },
) => Promise<ReadonlyMap<string, T> | Readonly<Record<string, T>> | ReadonlyArray<T>>;

/**
 * The cache API of one routed cache (`runtime.cache(name)`, `ctx.cache(name)`): any JSON value or bytes, with
 * read-through (`getOrSet`), atomic operations, counters, tags and namespace clears. Keys: non-empty strings of at
 * most 1,024 characters without control characters. Every call checks its input (ValidationError or
 * ConfigurationError, nothing written); a failing store rejects with UNAVAILABLE, except inside `getOrSet`, where the
 * loader answers instead.
 */
export interface Cache extends CachePort {
  /** The cache's route name. */
  readonly name: string;
  /** Stores `value` under `key` (replacing any value), with its own ttl and tags. */
  set(key: string, value: CacheValue, options?: CacheWriteOptions): Promise<void>;
  /** Stores every entry: `[key, value]` with `options`, or `[key, value, ownOptions]` for a per-entry ttl or tags. */
  setMany(
    entries: ReadonlyArray<
      readonly [key: string, value: CacheValue] | readonly [key: string, value: CacheValue, options: CacheWriteOptions]
    >,
    options?: CacheWriteOptions,
  ): Promise<void>;
  /** Stores `value` only if `key` holds nothing; whether it did. Atomic: of racing adds, exactly one wins. */
  add(key: string, value: CacheValue, options?: CacheWriteOptions): Promise<boolean>;
  /** Returns the value and deletes it, atomically: of racing pulls, exactly one gets it. */
  pull<T = CacheValue>(key: string): Promise<T | undefined>;
  /** Restarts an entry's lifetime (`ttl`, default the cache's); false when there is no entry. */
  touch(key: string, ttl?: Duration): Promise<boolean>;
  /** Gives an entry a new lifetime from now; false when there is no entry. */
  expire(key: string, ttl: Duration): Promise<boolean>;
  /** The entry's remaining lifetime in ms (`Infinity` for a key planted without one), or undefined when absent. */
  ttl(key: string): Promise<number | undefined>;
  /**
   * Adds `by` (default 1, an integer) to the counter and returns the new count, atomically across every replica. A
   * missing counter starts at 0 with the `ttl` of the options; an existing one keeps its lifetime.
   */
  increment(key: string, by?: number, options?: CounterOptions): Promise<number>;
  /** `increment(key, -by, options)`. */
  decrement(key: string, by?: number, options?: CounterOptions): Promise<number>;
  /**
   * The cached value, or the loader's (then cached). One loader per key per process at a time (single-flight).
   * See GetOrSetOptions for ttl, grace, earlyRefresh, timeout, signal, schema, tags and negative caching.
   */
  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T>;
  /** Alias of getOrSet. */
  remember<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T>;
  /**
   * Values of every key, in order: hits from one read, the misses from one `loader` call (single-flight per key).
   * A key the loader leaves out is `undefined` (cached only with `cacheUndefined`).
   */
  getManyOrSet<T>(
    keys: ReadonlyArray<string>,
    loader: BatchLoader<T>,
    options?: Omit<GetOrSetOptions<T>, "earlyRefresh" | "timeout">,
  ): Promise<Array<T | undefined>>;
  /** Makes every entry carrying one of `tags` a miss, on every replica, in O(number of tags). */
  invalidateTags(tags: ReadonlyArray<string>): Promise<void>;
  /** Makes every entry of this cache a miss (its namespace only), without scanning keys. */
  clear(): Promise<void>;
  /**
   * Calls `listener` after every operation of this cache (on this runtime). Returns the unsubscribe function.
   * Costs nothing while no listener is registered.
   */
  onOperation(listener: CacheOperationListener, options?: CacheOperationOptions): () => void;
  /** This cache's counters (shared by every `cache(name)` of the runtime). */
  stats(): CacheStats;
  /**
   * A lock on `key` (README "Locks"): an owner-checked lease with a fencing token, on this cache's backend; nothing
   * is sent until `acquire`. Lock keys never collide with value keys.
   */
  lock(key: string, options: LockOptions): CacheLock;
  /**
   * Runs `fn` holding the lock on `key`, released on every path; LockTimeoutError ("LOCKED") when it cannot be had
   * within `wait` (default: the lock's ttl), LockLostError ("LOCK_LOST") when it was lost before `fn` finished.
   */
  withLock<T>(key: string, fn: (lock: CacheLock) => Promise<T>, options: WithLockOptions): Promise<T>;
  /** One rate-limit decision on `key`, atomic on every backend (README "Rate limits"). */
  rateLimit(key: string, options: RateLimitOptions): Promise<RateLimitResult>;
}

/**
 * The payloads of the key/value cache API's diagnostics channels (`stratacache:cache.*`, names in
 * event-channels.ts). Documents and key/value caches publish on separate channels, so a subscriber of
 * `stratacache:read` sees only document reads (its payload shape and tiers stay as they are). Public and stable: a
 * field is only ever added. Payloads carry the key (events are in-process, like document ids), but the
 * OpenTelemetry adapter never puts keys on metrics, and on spans only when asked to.
 */

/** The tier that answered a key/value read: L1, the store (Redis, memory…), or the getOrSet loader. */
export type CacheReadTier = "l1" | "l2" | "loader";

/**
 * How a key/value read ended (a batch: see CacheReadEvent.outcome):
 * - `hit`: a fresh value answered (L1 or the store; an early-refresh election served in the background is a hit);
 * - `miss`: nothing usable was cached (getOrSet: the loader answered);
 * - `stale`: the store held a value past its freshness (or elected for an inline refresh), the loader answered;
 * - `grace`: the loader failed or passed a timeout, and the stale value answered;
 * - `coalesced`: getOrSet joined a loader of the same key already running on this runtime;
 * - `error`: the read failed.
 */
export type CacheReadOutcome = "hit" | "miss" | "stale" | "grace" | "coalesced" | "error";

/** The read operations of the key/value cache API. */
export type CacheReadOp = "get" | "getMany" | "getOrSet" | "getManyOrSet" | "exists" | "pull" | "ttl";

/** `stratacache:cache.read`: one key/value read call ended (a batch publishes one event for all its keys). */
export interface CacheReadEvent {
  /** The cache's name (`cache(name)`). */
  readonly cache: string;
  /** Which method. */
  readonly op: CacheReadOp;
  /** The key (a batch: its first key). */
  readonly key: string | undefined;
  /** Keys read (1 for single-key reads). */
  readonly keys: number;
  /** Single-key reads: the tier that answered (undefined for a miss of `get` and for `error`); batches: undefined. */
  readonly tier: CacheReadTier | undefined;
  /** Single-key reads: as CacheReadOutcome. Batches: `hit` when every key hit, `error` when the call failed, else `miss`. */
  readonly outcome: CacheReadOutcome;
  /** Keys answered fresh by L1. */
  readonly l1Hits: number;
  /** Keys answered fresh by the store. */
  readonly l2Hits: number;
  /** Keys with no fresh cached value (`keys - l1Hits - l2Hits` unless the call failed). */
  readonly misses: number;
  /** Milliseconds the call took (`performance.now()`); 0 for getOrSet's synchronous L1 hits. */
  readonly durationMs: number;
  /** `performance.timeOrigin + performance.now()` when the call began, for spans; 0 for getOrSet's L1 hits. */
  readonly startTime: number;
  /** The failure, when outcome is `error`. */
  readonly error: unknown;
}

/**
 * The write operations of the key/value cache API. `fill`: getOrSet/getManyOrSet storing what the loader returned;
 * `delete`, `deleteMany`, `clear` and `invalidateTags` remove entries (invalidations by this runtime; those pushed
 * by other writers arrive on `stratacache:invalidate` with the cache name as `document`).
 */
export type CacheWriteOp =
  | "set"
  | "setMany"
  | "add"
  | "increment"
  | "touch"
  | "expire"
  | "fill"
  | "delete"
  | "deleteMany"
  | "clear"
  | "invalidateTags";

/** `stratacache:cache.write`: one key/value write call ended. */
export interface CacheWriteEvent {
  /** The cache's name (`cache(name)`). */
  readonly cache: string;
  /** Which operation. */
  readonly op: CacheWriteOp;
  /** The key (a batch: its first key); undefined for clear and invalidateTags. */
  readonly key: string | undefined;
  /** Keys written or removed (0 for clear and invalidateTags). */
  readonly keys: number;
  /**
   * `ok`; `refused` (add found the key present, touch/expire found no key); `failed` (the store failed: rethrown,
   * or for `fill` absorbed).
   */
  readonly result: "ok" | "refused" | "failed";
  /** Milliseconds the call took. */
  readonly durationMs: number;
  /** `performance.timeOrigin + performance.now()` when it began. */
  readonly startTime: number;
  /** The failure, when result is `failed`. */
  readonly error: unknown;
}

/** `stratacache:cache.error`: a store failure getOrSet absorbed (the loader answered, or its value went uncached). */
export interface CacheErrorEvent {
  /** The cache's name (`cache(name)`). */
  readonly cache: string;
  /** `read` (the store read before the loader) or `write` (the fill after it). */
  readonly operation: "read" | "write";
  /** The failure as thrown. */
  readonly error: unknown;
}

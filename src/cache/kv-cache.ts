import type { CacheCoordination } from "../coordination/cache-coordination.js";
import type { CacheLock } from "../coordination/cache-lock.js";
import type { LockOptions, RateLimitOptions, WithLockOptions } from "../coordination/coordination-input.js";
import type { RateLimitResult } from "../coordination/rate-limit-model.js";
import type { Duration } from "../kernel/duration.js";
import { parseDuration } from "../kernel/duration.js";
import { ConfigurationError, ValidationError } from "../kernel/errors.js";
import type { CacheValue } from "../l2/cache-port.js";
import type { EntryWrite, StoredEntry } from "../l2/key-value-store.js";
import { checkKvEntries, checkKvKey, checkKvKeys, encodeKvValue } from "../l2/kv-input.js";
import type { CacheReadOp, CacheReadTier, CacheWriteOp } from "../observability/cache-events.js";
import { cacheObserved, publishCacheRead, publishCacheWrite } from "../observability/cache-publish.js";
import { cacheReadChannel, cacheWriteChannel } from "../observability/event-channels.js";
import type { BatchLoader, Cache, CacheWriteOptions, CounterOptions, GetOrSetOptions, Loader } from "./cache.js";
import type { CacheCore } from "./cache-core.js";
import { checkCounter, checkGetOrSetOptions, checkTags, checkWriteOptions } from "./cache-input.js";
import type {
  CacheOperation,
  CacheOperationListener,
  CacheOperationName,
  CacheOperationOptions,
} from "./cache-operation.js";
import type { CacheStats } from "./cache-stats.js";
import { getManyOrSet, getOrSetOne } from "./get-or-set.js";
import { NO_HIT } from "./kv-l1.js";
import { decodeStored } from "./stored-value.js";

type Tier = CacheOperation["tier"];

/**
 * One view of a cache (what `cache(name)` returns): the shared CacheCore plus this view's default ttl. Every call
 * asks the runtime whether it still runs (RuntimeStateError "STOPPED" after stop(), never a closed connection's
 * error), checks its input whole, then does its job; with no onOperation listener, nothing is measured.
 */
export class KvCache implements Cache {
  constructor(
    private readonly core: CacheCore,
    private readonly defaultTtlMs: number,
    private readonly ensureRunning: () => void,
  ) {}

  get name(): string {
    return this.core.name;
  }

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    const startedAt = this.#start();
    try {
      const { entries, fromL1 } = await this.core.read([checkKvKey(key)]);
      const found = entries[0] === undefined ? undefined : decodeStored(this.core, entries[0].value, undefined);
      this.#count(found !== undefined, fromL1 > 0);
      const tier = found === undefined ? undefined : fromL1 > 0 ? "l1" : "l2";
      this.#emit("get", key, 1, found !== undefined, tier, startedAt);
      if (cacheReadChannel.hasSubscribers && startedAt !== 0) {
        const l1 = tier === "l1" ? 1 : 0;
        const l2 = tier === "l2" ? 1 : 0;
        publishCacheRead(this.name, "get", key, 1, tier, tier === undefined ? "miss" : "hit", l1, l2, startedAt);
      }
      return found?.value as T | undefined;
    } catch (error) {
      throw this.#failed("get", key, 1, startedAt, error);
    }
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    const startedAt = this.#start();
    try {
      const checked = checkKvKeys(keys);
      if (checked.length === 0) return [];
      const { entries, fromL1 } = await this.core.read(checked);
      let hits = 0;
      const values = entries.map((entry) => {
        const found = entry === undefined ? undefined : decodeStored(this.core, entry.value, undefined);
        if (found !== undefined) hits++;
        return found?.value as T | undefined;
      });
      this.core.counters.l1Hits += fromL1;
      this.core.counters.hits += hits - fromL1;
      this.core.counters.misses += checked.length - hits;
      this.#emit("getMany", checked[0], checked.length, hits === checked.length, undefined, startedAt);
      if (cacheReadChannel.hasSubscribers && startedAt !== 0) {
        const outcome = hits === checked.length ? "hit" : "miss";
        publishCacheRead(
          this.name,
          "getMany",
          checked[0],
          checked.length,
          undefined,
          outcome,
          fromL1,
          hits - fromL1,
          startedAt,
        );
      }
      return values;
    } catch (error) {
      throw this.#failed("getMany", keys[0], keys.length, startedAt, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    const startedAt = this.#start();
    try {
      const [entry] = await this.core.store.read([checkKvKey(key)]);
      this.#emit("exists", key, 1, entry !== undefined, "l2", startedAt);
      this.#read("exists", key, entry !== undefined, startedAt);
      return entry !== undefined;
    } catch (error) {
      throw this.#failed("exists", key, 1, startedAt, error);
    }
  }

  async set(key: string, value: CacheValue, options?: CacheWriteOptions): Promise<void> {
    const startedAt = this.#start();
    try {
      const write = this.#entry(checkKvKey(key), value, options);
      this.core.touched([write.key]);
      await this.core.store.write([write]);
      this.core.touched([write.key]);
      this.#emit("set", key, 1, undefined, undefined, startedAt);
      this.#wrote("set", key, 1, true, startedAt);
    } catch (error) {
      throw this.#failed("set", key, 1, startedAt, error);
    }
  }

  async setMany(
    entries: ReadonlyArray<
      readonly [key: string, value: CacheValue] | readonly [key: string, value: CacheValue, options: CacheWriteOptions]
    >,
    options?: CacheWriteOptions,
  ): Promise<void> {
    const startedAt = this.#start();
    try {
      // Everything is checked and encoded before anything is written: one bad entry refuses the batch.
      const shared = checkWriteOptions(options, this.defaultTtlMs);
      const pairs = checkKvEntries(
        Array.isArray(entries)
          ? entries.map((entry: unknown) => (Array.isArray(entry) && entry.length === 3 ? entry.slice(0, 2) : entry))
          : entries,
      );
      const writes = pairs.map(([key, value], i): EntryWrite => {
        const own = (entries[i] as ReadonlyArray<unknown>)[2];
        const opts = own === undefined ? shared : checkWriteOptions(own, this.defaultTtlMs, ["entries", i]);
        return { key, value: encodeKvValue(value, this.core.maxValueBytes, i), ttlMs: opts.ttlMs, tags: opts.tags };
      });
      if (writes.length === 0) return;
      const keys = writes.map((w) => w.key);
      this.core.touched(keys);
      await this.core.store.write(writes);
      this.core.touched(keys);
      this.#emit("setMany", keys[0], keys.length, undefined, undefined, startedAt);
      this.#wrote("setMany", keys[0], keys.length, true, startedAt);
    } catch (error) {
      throw this.#failed("setMany", undefined, 0, startedAt, error);
    }
  }

  async add(key: string, value: CacheValue, options?: CacheWriteOptions): Promise<boolean> {
    const startedAt = this.#start();
    try {
      const write = this.#entry(checkKvKey(key), value, options);
      const added = await this.core.store.add(write);
      if (added) this.core.touched([write.key]);
      this.#emit("add", key, 1, !added, undefined, startedAt);
      this.#wrote("add", key, 1, added, startedAt);
      return added;
    } catch (error) {
      throw this.#failed("add", key, 1, startedAt, error);
    }
  }

  async pull<T = CacheValue>(key: string): Promise<T | undefined> {
    const startedAt = this.#start();
    try {
      checkKvKey(key);
      this.core.touched([key]);
      const entry = await this.core.store.pull(key);
      this.core.touched([key]);
      const found = entry === undefined ? undefined : decodeStored(this.core, entry.value, undefined);
      this.#emit("pull", key, 1, found !== undefined, "l2", startedAt);
      this.#read("pull", key, found !== undefined, startedAt);
      return found?.value as T | undefined;
    } catch (error) {
      throw this.#failed("pull", key, 1, startedAt, error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const startedAt = this.#start();
    try {
      checkKvKey(key);
      this.core.touched([key]);
      const removed = (await this.core.store.remove([key])) === 1;
      this.core.touched([key]);
      this.#emit("delete", key, 1, undefined, undefined, startedAt);
      this.#wrote("delete", key, 1, true, startedAt);
      return removed;
    } catch (error) {
      throw this.#failed("delete", key, 1, startedAt, error);
    }
  }

  async deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    const startedAt = this.#start();
    try {
      const checked = checkKvKeys(keys);
      if (checked.length === 0) return 0;
      this.core.touched(checked);
      const removed = await this.core.store.remove(checked);
      this.core.touched(checked);
      this.#emit("deleteMany", checked[0], checked.length, undefined, undefined, startedAt);
      this.#wrote("deleteMany", checked[0], checked.length, true, startedAt);
      return removed;
    } catch (error) {
      throw this.#failed("deleteMany", keys[0], keys.length, startedAt, error);
    }
  }

  async touch(key: string, ttl?: Duration): Promise<boolean> {
    const startedAt = this.#start();
    try {
      const ttlMs = ttl === undefined ? this.defaultTtlMs : parseDuration(ttl, "ttl");
      const touched = await this.core.store.expire(checkKvKey(key), ttlMs);
      this.#emit("touch", key, 1, touched, undefined, startedAt);
      this.#wrote("touch", key, 1, touched, startedAt);
      return touched;
    } catch (error) {
      throw this.#failed("touch", key, 1, startedAt, error);
    }
  }

  async expire(key: string, ttl: Duration): Promise<boolean> {
    const startedAt = this.#start();
    try {
      const ttlMs = parseDuration(ttl, "ttl");
      const expired = await this.core.store.expire(checkKvKey(key), ttlMs);
      this.#emit("expire", key, 1, expired, undefined, startedAt);
      this.#wrote("expire", key, 1, expired, startedAt);
      return expired;
    } catch (error) {
      throw this.#failed("expire", key, 1, startedAt, error);
    }
  }

  async ttl(key: string): Promise<number | undefined> {
    const startedAt = this.#start();
    try {
      const remaining = await this.core.store.ttl(checkKvKey(key));
      this.#emit("ttl", key, 1, remaining !== undefined, "l2", startedAt);
      this.#read("ttl", key, remaining !== undefined, startedAt);
      return remaining;
    } catch (error) {
      throw this.#failed("ttl", key, 1, startedAt, error);
    }
  }

  async increment(key: string, by = 1, options?: CounterOptions): Promise<number> {
    const startedAt = this.#start();
    try {
      checkKvKey(key);
      const counter = checkCounter(by, options, this.defaultTtlMs);
      this.core.touched([key]);
      const count = await this.core.store.increment(key, by, counter.ttlMs, counter.floor, counter.ceiling);
      this.core.touched([key]);
      this.#emit("increment", key, 1, undefined, undefined, startedAt);
      this.#wrote("increment", key, 1, true, startedAt);
      return count;
    } catch (error) {
      throw this.#failed("increment", key, 1, startedAt, error);
    }
  }

  decrement(key: string, by = 1, options?: CounterOptions): Promise<number> {
    if (typeof by !== "number") return this.increment(key, by, options); // refused there, with the same message
    return this.increment(key, -by, options);
  }

  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    // The L1 hit path: no options, nobody listening — one synchronous lookup, one resolved promise.
    const l1 = this.core.l1;
    if (l1 !== undefined && options === undefined && !this.core.observers.active && typeof key === "string") {
      this.ensureRunning();
      const hit = l1.fastHit(key, this.core.clock.now(), this.#decode);
      if (hit !== NO_HIT) {
        this.core.counters.l1Hits++;
        if (cacheReadChannel.hasSubscribers) publishCacheRead(this.name, "getOrSet", key, 1, "l1", "hit", 1, 0, 0);
        return Promise.resolve(hit as T);
      }
    }
    return this.#getOrSet(key, loader, options);
  }

  readonly #decode = (entry: StoredEntry) => decodeStored(this.core, entry.value, undefined);

  async #getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    const startedAt = this.#start();
    try {
      checkKvKey(key);
      checkLoader(loader);
      const settings = checkGetOrSetOptions<unknown>(options, this.defaultTtlMs);
      const resolved = await getOrSetOne(this.core, key, loader as Loader<unknown>, settings);
      this.#emit("getOrSet", key, 1, resolved.tier !== "loader", resolved.tier, startedAt);
      if (cacheReadChannel.hasSubscribers && startedAt !== 0) {
        const { outcome } = resolved;
        const tier: CacheReadTier =
          outcome === "grace"
            ? (resolved.from ?? "l2")
            : resolved.tier === "l1"
              ? "l1"
              : resolved.tier === "l2"
                ? "l2"
                : "loader";
        const l1 = outcome === "hit" && tier === "l1" ? 1 : 0;
        const l2 = outcome === "hit" && tier === "l2" ? 1 : 0;
        publishCacheRead(this.name, "getOrSet", key, 1, tier, outcome, l1, l2, startedAt);
      }
      return resolved.value as T;
    } catch (error) {
      throw this.#failed("getOrSet", key, 1, startedAt, error);
    }
  }

  remember<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    return this.getOrSet(key, loader, options);
  }

  async getManyOrSet<T>(
    keys: ReadonlyArray<string>,
    loader: BatchLoader<T>,
    options?: Omit<GetOrSetOptions<T>, "earlyRefresh" | "timeout">,
  ): Promise<Array<T | undefined>> {
    const startedAt = this.#start();
    try {
      const checked = checkKvKeys(keys);
      checkLoader(loader);
      const opts = options as GetOrSetOptions<T> | undefined;
      if (opts?.earlyRefresh !== undefined || opts?.timeout !== undefined) {
        throw new ValidationError(
          "cache",
          [{ path: ["options"], message: "getManyOrSet takes no earlyRefresh or timeout", code: "invalid_option" }],
          "options",
        );
      }
      const settings = checkGetOrSetOptions<unknown>(options, this.defaultTtlMs);
      if (checked.length === 0) return [];
      const { values, hits, l1Hits } = await getManyOrSet(this.core, checked, loader as BatchLoader<unknown>, settings);
      this.#emit("getManyOrSet", checked[0], checked.length, hits === checked.length, undefined, startedAt);
      if (cacheReadChannel.hasSubscribers && startedAt !== 0) {
        const outcome = hits === checked.length ? "hit" : "miss";
        const n = checked.length;
        publishCacheRead(
          this.name,
          "getManyOrSet",
          checked[0],
          n,
          undefined,
          outcome,
          l1Hits,
          hits - l1Hits,
          startedAt,
        );
      }
      return values as Array<T | undefined>;
    } catch (error) {
      throw this.#failed("getManyOrSet", keys[0], keys.length, startedAt, error);
    }
  }

  async invalidateTags(tags: ReadonlyArray<string>): Promise<void> {
    const startedAt = this.#start();
    try {
      const checked = checkTags(tags);
      if (checked.length === 0) return;
      this.core.invalidatedAll();
      await this.core.store.invalidateTags(checked);
      this.core.invalidatedAll();
      this.#emit("invalidateTags", undefined, 0, undefined, undefined, startedAt);
      this.#wrote("invalidateTags", undefined, 0, true, startedAt);
    } catch (error) {
      throw this.#failed("invalidateTags", undefined, 0, startedAt, error);
    }
  }

  async clear(): Promise<void> {
    const startedAt = this.#start();
    try {
      this.core.invalidatedAll();
      await this.core.store.clear();
      this.core.invalidatedAll();
      this.#emit("clear", undefined, 0, undefined, undefined, startedAt);
      this.#wrote("clear", undefined, 0, true, startedAt);
    } catch (error) {
      throw this.#failed("clear", undefined, 0, startedAt, error);
    }
  }

  onOperation(listener: CacheOperationListener, options?: CacheOperationOptions): () => void {
    if (typeof listener !== "function") {
      throw new ValidationError(
        "cache",
        [{ path: ["listener"], message: "onOperation expects a function", code: "invalid_type" }],
        "listener",
      );
    }
    return this.core.observers.subscribe(listener, options?.rawKeys === true);
  }

  lock(key: string, options: LockOptions): CacheLock {
    return this.#coordination().lock(key, options);
  }

  async withLock<T>(key: string, fn: (lock: CacheLock) => Promise<T>, options: WithLockOptions): Promise<T> {
    return this.#coordination().withLock(key, fn, options);
  }

  async rateLimit(key: string, options: RateLimitOptions): Promise<RateLimitResult> {
    return this.#coordination().rateLimit(key, options);
  }

  #coordination(): CacheCoordination {
    this.ensureRunning();
    const coordination = this.core.coordination;
    if (coordination === undefined) {
      throw new ConfigurationError(`caches.${this.core.name}`, "is on a backend without locks and rate limits");
    }
    return coordination;
  }

  stats(): CacheStats {
    return this.core.stats();
  }

  #entry(key: string, value: CacheValue, options: CacheWriteOptions | undefined): EntryWrite {
    const { ttlMs, tags } = checkWriteOptions(options, this.defaultTtlMs);
    return { key, value: encodeKvValue(value, this.core.maxValueBytes), ttlMs, tags };
  }

  /** Checks the runtime, and starts the clock only when someone listens (onOperation or a diagnostics channel). */
  #start(): number {
    this.ensureRunning();
    return this.core.observers.active || cacheObserved() ? performance.now() : 0;
  }

  /** A single-key read answered by the store alone (exists, pull, ttl): `stratacache:cache.read`. */
  #read(op: CacheReadOp, key: string, hit: boolean, startedAt: number): void {
    if (cacheReadChannel.hasSubscribers && startedAt !== 0) {
      publishCacheRead(this.name, op, key, 1, hit ? "l2" : undefined, hit ? "hit" : "miss", 0, hit ? 1 : 0, startedAt);
    }
  }

  /** A write call ended (`applied` false: add found the key, touch/expire found none): `stratacache:cache.write`. */
  #wrote(op: CacheWriteOp, key: string | undefined, keys: number, applied: boolean, startedAt: number): void {
    if (cacheWriteChannel.hasSubscribers && startedAt !== 0) {
      publishCacheWrite(this.name, op, key, keys, applied ? "ok" : "refused", startedAt);
    }
  }

  #count(hit: boolean, fromL1: boolean): void {
    if (!hit) this.core.counters.misses++;
    else if (fromL1) this.core.counters.l1Hits++;
    else this.core.counters.hits++;
  }

  #emit(
    op: CacheOperationName,
    key: string | undefined,
    keys: number,
    hit: boolean | undefined,
    tier: Tier,
    startedAt: number,
  ): void {
    if (this.core.observers.active)
      this.core.observers.emit(this.core.name, op, key, keys, hit, tier, startedAt, undefined);
  }

  #failed(op: CacheOperationName, key: unknown, keys: number, startedAt: number, error: unknown): unknown {
    if (startedAt !== 0 && cacheObserved()) {
      const reported = typeof key === "string" ? key : undefined;
      const readOp = READ_OPS.get(op);
      if (readOp !== undefined) {
        if (cacheReadChannel.hasSubscribers) {
          publishCacheRead(this.name, readOp, reported, keys, undefined, "error", 0, 0, startedAt, error);
        }
      } else if (cacheWriteChannel.hasSubscribers) {
        publishCacheWrite(this.name, op as CacheWriteOp, reported, keys, "failed", startedAt, error);
      }
    }
    if (this.core.observers.active) {
      const reported = typeof key === "string" ? key : undefined;
      this.core.observers.emit(this.core.name, op, reported, keys, undefined, undefined, startedAt, error);
    }
    return error;
  }
}

/** The read operations (published on `stratacache:cache.read`); every other operation is a write. */
const READ_OPS = new Map<CacheOperationName, CacheReadOp>(
  (["get", "getMany", "getOrSet", "getManyOrSet", "exists", "pull", "ttl"] as const).map((op) => [op, op]),
);

function checkLoader(loader: unknown): void {
  if (typeof loader !== "function") {
    throw new ValidationError(
      "cache",
      [{ path: ["loader"], message: "the loader must be a function", code: "invalid_type" }],
      "loader",
    );
  }
}

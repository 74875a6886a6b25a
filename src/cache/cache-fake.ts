import { checkMethods } from "../kernel/check-options.js";
import type { Clock } from "../kernel/clock.js";
import { systemClock } from "../kernel/clock.js";
import type { Duration } from "../kernel/duration.js";
import { parseDuration } from "../kernel/duration.js";
import { silentLogger } from "../kernel/logger.js";
import { kvGenerationKey, kvLeasePrefix, kvPrefix, kvTagPrefix } from "../l2/key-layout.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../l2/kv-input.js";
import { MemoryKeyspace } from "../l2/memory/memory-cache-backend.js";
import { MemoryKeyValueStore } from "../l2/memory/memory-key-value-store.js";
import type { Cache } from "./cache.js";
import { CacheCore } from "./cache-core.js";
import type { CacheOperation, CacheOperationName } from "./cache-operation.js";
import { KvCache } from "./kv-cache.js";

/** Options of createCacheFake. */
export interface CacheFakeOptions {
  /**
   * The fake's name (what `cache.name` and recorded operations say).
   * @default "fake"
   */
  readonly name?: string;
  /**
   * Default lifetime of entries written without a ttl.
   * @default "5m"
   */
  readonly ttl?: Duration;
  /**
   * Time for expiry, freshness and XFetch; inject a manual clock to step time in tests.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** One call the fake recorded. */
export interface RecordedCall {
  /** The operation. */
  readonly op: CacheOperationName;
  /** Its key (the first of a batch), as given; undefined for clear and invalidateTags. */
  readonly key: string | undefined;
  /** Whether a read found its value. */
  readonly hit: boolean | undefined;
  /** Where a read was answered ("l2" = the fake's store, "loader", "stale"). */
  readonly tier: CacheOperation["tier"];
  /** What the call rejected with, if it did. */
  readonly error: unknown;
}

/** A working in-process Cache that records every call, with assertion helpers (goforj's cachefake, for Node). */
export interface CacheFake extends Cache {
  /** Every recorded call, oldest first. */
  readonly recorded: ReadonlyArray<RecordedCall>;
  /** The recorded calls of `op` (on `key`, when given). */
  calls(op: CacheOperationName, key?: string): ReadonlyArray<RecordedCall>;
  /** Throws an Error saying what was seen unless `op` was called on `key` exactly `times` times. */
  expectCalled(op: CacheOperationName, key: string | undefined, times: number): void;
  /** Forgets the recorded calls (the stored entries stay; `clear()` them if needed). */
  reset(): void;
}

const CLOCK_METHODS: ReadonlyArray<keyof Clock> = ["now", "random"];

/**
 * A recording fake of the cache API for application tests: the real semantics (the in-process store behind it,
 * getOrSet with single-flight, tags, counters — the same code as a runtime's cache) plus a record of each call.
 *
 * @example
 * ```ts
 * import { createCacheFake } from "stratacache";
 *
 * const cache = createCacheFake();
 * await cache.getOrSet("user:1", () => ({ name: "Ada" }));
 * await cache.getOrSet("user:1", () => ({ name: "Ada" }));
 * cache.expectCalled("getOrSet", "user:1", 2);
 * cache.calls("getOrSet").filter((call) => call.tier === "loader").length; // 1
 * ```
 */
export function createCacheFake(options: CacheFakeOptions = {}): CacheFake {
  const clock = options.clock === undefined ? systemClock : checkMethods<Clock>(options.clock, CLOCK_METHODS, "clock");
  const name = options.name ?? "fake";
  const ttlMs = options.ttl === undefined ? 5 * 60_000 : parseDuration(options.ttl, "ttl");
  const keyspace = new MemoryKeyspace(clock, Number.MAX_SAFE_INTEGER);
  const store = new MemoryKeyValueStore(
    keyspace,
    kvPrefix(name),
    kvGenerationKey(name),
    kvTagPrefix(name),
    kvLeasePrefix(name),
  );
  const core = new CacheCore(name, store, DEFAULT_MAX_VALUE_BYTES, clock, silentLogger, undefined, undefined);
  return new RecordingCache(core, ttlMs);
}

class RecordingCache extends KvCache implements CacheFake {
  readonly #recorded: RecordedCall[] = [];

  constructor(core: CacheCore, ttlMs: number) {
    super(core, ttlMs, () => {});
    this.onOperation(
      (operation) => {
        this.#recorded.push({
          op: operation.op,
          key: operation.key,
          hit: operation.hit,
          tier: operation.tier,
          error: operation.error,
        });
      },
      { rawKeys: true },
    );
  }

  get recorded(): ReadonlyArray<RecordedCall> {
    return this.#recorded;
  }

  calls(op: CacheOperationName, key?: string): ReadonlyArray<RecordedCall> {
    return this.#recorded.filter((call) => call.op === op && (key === undefined || call.key === key));
  }

  expectCalled(op: CacheOperationName, key: string | undefined, times: number): void {
    const seen = this.calls(op, key).length;
    if (seen !== times) {
      const all = this.#recorded.map((call) => `${call.op}(${call.key ?? ""})`).join(", ") || "none";
      throw new Error(`expected ${op}(${key ?? "any key"}) ${times} time(s), saw ${seen}; calls: ${all}`);
    }
  }

  reset(): void {
    this.#recorded.length = 0;
  }
}

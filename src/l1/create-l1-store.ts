import { describeValue, expectConfigObject, rejectUnknownKeys } from "../kernel/config-object.js";
import { type Duration, parseDuration } from "../kernel/duration.js";
import { ConfigurationError } from "../kernel/errors.js";
import { checkL1Capacity } from "./l1-capacity.js";
import type { L1PolicyName, L1Store, L1StoreFactory, L1StoreOptions } from "./l1-store.js";
import { LruL1Store } from "./lru-l1-store.js";
import { TinyLfuL1Store } from "./tiny-lfu-l1-store.js";

/** Options of createL1Store. */
export interface CreateL1StoreOptions {
  /**
   * `"lru"`, `"tinylfu"`, or a factory for a custom store (called with the checked options).
   * @default "lru"
   */
  readonly policy?: L1PolicyName | L1StoreFactory;
  /** Maximum number of entries: an integer >= 1 (>= 2 for tinylfu). */
  readonly capacity: number;
  /** Default and maximum lifetime of an entry; absent means entries live until evicted or invalidated. */
  readonly ttl?: Duration;
  /**
   * Milliseconds clock used for expiry; inject one for deterministic tests.
   * @default performance.now
   */
  readonly now?: () => number;
}

const KNOWN_KEYS: ReadonlyArray<string> = ["policy", "capacity", "ttl", "now"];

/**
 * Builds a standalone in-process store — the one the document L1 uses. Options are checked here, once:
 * a bad one throws ConfigurationError naming it (`capacity`, `ttl`, `policy`, `now`).
 *
 * @example
 * ```ts
 * import { createL1Store } from "stratacache";
 *
 * const store = createL1Store<string>({ policy: "tinylfu", capacity: 1024, ttl: "2s" });
 * store.set("greeting", "hello");
 * store.get("greeting"); // "hello" (until 2s pass, or 1024 newer entries push it out)
 * store.stats().hitRate; // 1
 * ```
 */
export function createL1Store<V = unknown>(options: CreateL1StoreOptions): L1Store<V> {
  const config = expectConfigObject(options, "", '{ policy: "tinylfu", capacity: 1024, ttl: "2s" }');
  rejectUnknownKeys(config, KNOWN_KEYS, "");
  const policy = config.policy ?? "lru";
  if (policy !== "lru" && policy !== "tinylfu" && typeof policy !== "function") {
    throw new ConfigurationError(
      "policy",
      `must be "lru", "tinylfu" or a store factory function (got ${describeValue(policy)})`,
    );
  }
  const capacity = checkL1Capacity(config.capacity, typeof policy === "function" ? "custom" : policy, "capacity");
  const ttlMs = config.ttl === undefined ? undefined : parseDuration(config.ttl, "ttl");
  const now = config.now;
  if (now !== undefined && typeof now !== "function") {
    throw new ConfigurationError("now", `must be a function returning milliseconds (got ${describeValue(now)})`);
  }
  const resolved: L1StoreOptions = { capacity, ttlMs, now: now as (() => number) | undefined };
  if (policy === "lru") return new LruL1Store<V>(resolved);
  if (policy === "tinylfu") return new TinyLfuL1Store<V>(resolved);
  const store = (policy as L1StoreFactory)(resolved);
  if (typeof store !== "object" || store === null) {
    throw new ConfigurationError("policy", `factory must return an L1Store (got ${describeValue(store)})`);
  }
  // Everything the runtime calls; checked now, so a partial store fails at wiring and never after a commit.
  const missing = STORE_METHODS.filter(
    (method) => typeof (store as unknown as Record<string, unknown>)[method] !== "function",
  );
  if (missing.length > 0) {
    throw new ConfigurationError(
      "policy",
      `factory must return an L1Store; its result lacks ${missing.map((m) => `${m}()`).join(", ")}`,
    );
  }
  return store as L1Store<V>;
}

const STORE_METHODS = ["get", "set", "invalidate", "clear", "stats"] as const;

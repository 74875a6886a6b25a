import { describeValue } from "../spec/config-object.js";
import { MAX_DURATION_MS } from "../spec/duration.js";
import { ConfigurationError } from "../spec/errors.js";
import type { L1StoreOptions } from "./l1-store.js";

/** Store options after checking: `ttlMs` is Infinity when entries never expire by default. */
export interface CheckedL1StoreOptions {
  readonly capacity: number;
  readonly ttlMs: number;
  readonly now: () => number;
}

/**
 * Checks a store's resolved options once, at construction (stores can be built directly, not only
 * through createL1Store). `minimumCapacity` is 2 for W-TinyLFU: its window and main area each need a slot.
 */
export function checkL1StoreOptions(options: L1StoreOptions, minimumCapacity: number): CheckedL1StoreOptions {
  const { capacity, ttlMs, now } = options;
  if (typeof capacity !== "number" || !Number.isSafeInteger(capacity) || capacity < minimumCapacity) {
    throw new ConfigurationError(
      "capacity",
      `must be an integer >= ${minimumCapacity} (got ${describeValue(capacity)})`,
    );
  }
  if (ttlMs !== undefined && !(typeof ttlMs === "number" && ttlMs > 0 && ttlMs <= MAX_DURATION_MS)) {
    throw new ConfigurationError("ttlMs", `must be a positive number of milliseconds (got ${describeValue(ttlMs)})`);
  }
  if (now !== undefined && typeof now !== "function") {
    throw new ConfigurationError("now", `must be a function returning milliseconds (got ${describeValue(now)})`);
  }
  return { capacity, ttlMs: ttlMs === undefined ? Number.POSITIVE_INFINITY : Math.ceil(ttlMs), now: now ?? defaultNow };
}

const defaultNow = (): number => performance.now();

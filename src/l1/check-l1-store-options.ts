import { describeValue } from "../kernel/config-object.js";
import { MAX_DURATION_MS } from "../kernel/duration.js";
import { ConfigurationError } from "../kernel/errors.js";
import { checkL1Capacity } from "./l1-capacity.js";
import type { L1PolicyName, L1StoreOptions } from "./l1-store.js";

/** Store options after checking: `ttlMs` is Infinity when entries never expire by default. */
export interface CheckedL1StoreOptions {
  readonly capacity: number;
  readonly ttlMs: number;
  readonly now: () => number;
}

/**
 * Checks a store's resolved options once, at construction (stores can be built directly, not only
 * through createL1Store), with the capacity rule of `policy` (see checkL1Capacity).
 */
export function checkL1StoreOptions(options: L1StoreOptions, policy: L1PolicyName): CheckedL1StoreOptions {
  const { ttlMs, now } = options;
  const capacity = checkL1Capacity(options.capacity, policy, "capacity");
  if (ttlMs !== undefined && !(typeof ttlMs === "number" && ttlMs > 0 && ttlMs <= MAX_DURATION_MS)) {
    throw new ConfigurationError("ttlMs", `must be a positive number of milliseconds (got ${describeValue(ttlMs)})`);
  }
  if (now !== undefined && typeof now !== "function") {
    throw new ConfigurationError("now", `must be a function returning milliseconds (got ${describeValue(now)})`);
  }
  return { capacity, ttlMs: ttlMs === undefined ? Number.POSITIVE_INFINITY : Math.ceil(ttlMs), now: now ?? defaultNow };
}

const defaultNow = (): number => performance.now();

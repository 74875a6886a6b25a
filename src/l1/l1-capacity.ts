import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";
import type { L1PolicyName } from "./l1-store.js";

/**
 * The largest capacity of the built-in stores. Both allocate their slots up front (key/value arrays and typed-array
 * links; W-TinyLFU also its frequency sketch): about 32 bytes per slot for lru and 49 for tinylfu while empty, 60-80
 * bytes per entry when full, before the key string and the value. A large enough capacity exhausts the heap at first
 * use, so the bound keeps both well inside a default Node heap. Measured figures are in the README (L1 section).
 */
export const MAX_L1_CAPACITY = 1_000_000;

/**
 * The one capacity rule of the in-process stores, used by `cache.l1.capacity`, `createL1Store` and the store
 * constructors: an integer from 1 (2 for tinylfu: its window and main area each need a slot) to MAX_L1_CAPACITY.
 * A custom factory (`policy: "custom"`) only needs an integer >= 1; it sizes its own storage.
 */
export function checkL1Capacity(value: unknown, policy: L1PolicyName | "custom", path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ConfigurationError(path, `must be an integer (got ${describeValue(value)})`);
  }
  const minimum = policy === "tinylfu" ? 2 : 1;
  if (value < minimum) {
    const why = policy === "tinylfu" ? " with the tinylfu policy" : "";
    throw new ConfigurationError(path, `must be at least ${minimum}${why} (got ${value})`);
  }
  if (policy !== "custom" && value > MAX_L1_CAPACITY) {
    throw new ConfigurationError(
      path,
      `must be at most ${MAX_L1_CAPACITY} with the ${policy} policy, which allocates every slot up front (got ${value})`,
    );
  }
  return value;
}

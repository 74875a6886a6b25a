import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";

/**
 * A cache name routes a document to a backend declared by a module (`redisModule({ caches: { … } })`).
 * Letters, digits and `_ : . -`, starting with a letter: safe in Redis keys, logs and metric labels.
 */
export const CACHE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_:.-]*$/;
export const CACHE_NAME_MAX_LENGTH = 128;

/** The one rule for a cache name, wherever one is given: `cache.name` of a spec, or a module's `caches` key. */
export function checkCacheName(value: unknown, path: string): string {
  if (typeof value !== "string") {
    throw new ConfigurationError(path, `must be a string (got ${describeValue(value)})`);
  }
  if (value.length === 0 || value.length > CACHE_NAME_MAX_LENGTH || !CACHE_NAME_PATTERN.test(value)) {
    throw new ConfigurationError(
      path,
      `must be 1-${CACHE_NAME_MAX_LENGTH} characters: a letter, then letters, digits, "_", ":", "." or "-" (got ${describeValue(value)})`,
    );
  }
  return value;
}

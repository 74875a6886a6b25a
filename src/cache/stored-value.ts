import { decodeCacheValue } from "../l2/cache-value-codec.js";
import type { CacheCore, Loaded } from "./cache-core.js";
import type { GetOrSetSettings } from "./cache-input.js";

/** The bytes of a cached `undefined` (negative caching): a tag byte no other value uses. */
export const UNDEFINED_VALUE: Buffer = Buffer.from("u", "latin1");
const UNDEFINED_TAG = 0x75;

const CACHED_UNDEFINED: Loaded = Object.freeze({ value: undefined });

/**
 * A stored value, decoded: `{ value }` (value may be a cached undefined), or undefined for a miss — bytes that are not
 * ours (counted as corrupt) or a value the schema refuses (counted as a schema miss).
 */
export function decodeStored(
  core: CacheCore,
  bytes: Buffer,
  schema: GetOrSetSettings<unknown>["schema"],
): Loaded | undefined {
  if (bytes.length === 1 && bytes[0] === UNDEFINED_TAG) return CACHED_UNDEFINED;
  const value = decodeCacheValue(bytes);
  if (value === undefined) {
    core.counters.corrupt++;
    return undefined;
  }
  if (schema === undefined) return { value };
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    core.counters.schemaMisses++;
    return undefined;
  }
  return { value: parsed.data };
}

import { describeValue } from "../kernel/config-object.js";
import { didYouMean } from "../kernel/did-you-mean.js";
import { ValidationError } from "../kernel/errors.js";
import type { CacheSetOptions } from "./cache-port.js";
import { encodeCacheValue } from "./cache-value-codec.js";

/**
 * Input rules of the key/value port (README, `ctx.cache`), checked before anything is sent, the same on
 * every backend.
 *
 * Keys: a non-empty string of at most MAX_KV_KEY_LENGTH characters, without control characters (C0 and DEL: a
 * newline or NUL in a key is a bug upstream, not a name) and without lone UTF-16 surrogates (UTF-8 would turn every
 * one into U+FFFD, so two different keys would share one entry). Values: at most the cache's `maxValueBytes` once
 * encoded (default DEFAULT_MAX_VALUE_BYTES): a bigger one cannot be read back within a Redis timeout.
 */
export const MAX_KV_KEY_LENGTH = 1024;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
const BAD_KEY_CHAR = /[\u0000-\u001f\u007f]|\p{Surrogate}/u;

/** `index`: the key's position in a batch, named in the error's path. */
export function checkKvKey(key: unknown, index?: number): string {
  const path = index === undefined ? ["key"] : ["keys", index];
  let problem: string | undefined;
  if (typeof key !== "string") problem = `must be a string (got ${key === null ? "null" : typeof key})`;
  else if (key.length === 0) problem = "must not be empty";
  else if (key.length > MAX_KV_KEY_LENGTH)
    problem = `must be at most ${MAX_KV_KEY_LENGTH} characters (got ${key.length})`;
  else if (BAD_KEY_CHAR.test(key)) problem = "must not contain control characters or lone UTF-16 surrogates";
  if (problem !== undefined) {
    throw new ValidationError("cache", [{ path, message: `key ${problem}`, code: "invalid_key" }], "key");
  }
  return key as string;
}

export function checkKvKeys(keys: unknown): string[] {
  if (!Array.isArray(keys)) {
    throw new ValidationError(
      "cache",
      [{ path: ["keys"], message: "keys must be an array", code: "invalid_type" }],
      "keys",
    );
  }
  return keys.map((key, index) => checkKvKey(key, index));
}

/** The batch of a setMany, as [key, value] pairs. */
export function checkKvEntries(entries: unknown): ReadonlyArray<readonly [string, unknown]> {
  if (!Array.isArray(entries)) {
    throw new ValidationError(
      "cache",
      [{ path: ["entries"], message: "entries must be an array of [key, value] pairs", code: "invalid_type" }],
      "entries",
    );
  }
  return entries.map((entry: unknown, index) => {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new ValidationError(
        "cache",
        [{ path: ["entries", index], message: "each entry must be a [key, value] pair", code: "invalid_type" }],
        "entries",
      );
    }
    return [checkKvKey(entry[0], index), entry[1]] as const;
  });
}

/** Refuses an encoded value over the cache's limit. */
export function checkValueSize(bytes: Buffer, maxValueBytes: number, index?: number): Buffer {
  if (bytes.length > maxValueBytes) {
    throw new ValidationError(
      "cache",
      [
        {
          path: index === undefined ? [] : ["entries", index],
          message: `value is ${bytes.length} bytes encoded; this cache's maxValueBytes is ${maxValueBytes}`,
          code: "too_large",
        },
      ],
      "value",
    );
  }
  return bytes;
}

const SET_OPTION_KEYS: ReadonlyArray<string> = ["ttl"];

/**
 * The options of `set`/`setMany`: absent, or a plain object whose only key is `ttl` (CacheSetOptions). Anything else —
 * `null`, a bare duration like `"5m"`, a misspelt key — is refused rather than silently meaning the default ttl. The
 * ttl's own value is checked where it is parsed.
 */
export function checkSetOptions(options: unknown): CacheSetOptions | undefined {
  if (options === undefined) return undefined;
  const proto: unknown = typeof options === "object" && options !== null ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw invalidSetOptions([], `expected an object like { ttl: "5m" } (got ${describeValue(options)})`);
  }
  for (const key in options as object) {
    if (!SET_OPTION_KEYS.includes(key)) {
      const guess = didYouMean(key, SET_OPTION_KEYS);
      const hint = guess === undefined ? "" : ` (did you mean ${guess}?)`;
      throw invalidSetOptions([key], `is not a set option${hint}; expected ${SET_OPTION_KEYS.join(", ")}`);
    }
  }
  return options as CacheSetOptions;
}

function invalidSetOptions(path: ReadonlyArray<string>, message: string): ValidationError {
  return new ValidationError("cache", [{ path: ["options", ...path], message, code: "invalid_option" }], "options");
}

/** A set's value, encoded and refused when over the cache's limit (`index`: its place in a batch). */
export function encodeKvValue(value: unknown, maxValueBytes: number, index?: number): Buffer {
  return checkValueSize(encodeCacheValue(value), maxValueBytes, index);
}

/**
 * A setMany batch, checked and encoded whole before anything is written (one bad value refuses it all): the full
 * key and the bytes of each entry, in order.
 */
export function encodeKvEntries(
  entries: unknown,
  fullKey: (key: string) => string,
  maxValueBytes: number,
): Array<readonly [string, Buffer]> {
  return checkKvEntries(entries).map(
    ([key, value], i) => [fullKey(key), encodeKvValue(value, maxValueBytes, i)] as const,
  );
}

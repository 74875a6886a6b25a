import type { ConfigObject } from "../kernel/config-object.js";
import { describeValue } from "../kernel/config-object.js";
import { didYouMean } from "../kernel/did-you-mean.js";
import { AbortError, ValidationError } from "../kernel/errors.js";

/** A read's options (`query.get`, `find`, `getMany`, `findMany`); the database sees only `signal`. */
export interface ReadOptions {
  /**
   * Aborts the read: it rejects with AbortError once the signal fires (at once if it already has, even on an L1
   * hit). A fetch other readers joined keeps going for them.
   */
  readonly signal?: AbortSignal;
  /** Read Postgres directly: no cache lookup, no fill. */
  readonly skipCache?: boolean;
}

const READ_OPTION_KEYS: ReadonlyArray<string> = ["signal", "skipCache"];

/**
 * Checks a read's options before anything is looked up or sent. Options are call input, not configuration, so a bad
 * one is a ValidationError (path `["options", key]`), like a bad id. Then an aborted signal rejects the read with
 * AbortError — on an L1 hit too. No allocation for valid options (`for…in` over a plain object).
 */
export function checkReadOptions(document: string, options: unknown): ReadOptions | undefined {
  if (options === undefined) return undefined;
  if (!isPlainObject(options)) {
    throw invalid(document, [], `expected an object like { signal, skipCache }, got ${describeValue(options)}`);
  }
  for (const key in options) {
    if (key === "signal") {
      const signal = options.signal;
      if (signal !== undefined && !(signal instanceof AbortSignal)) {
        throw invalid(document, ["signal"], `expected an AbortSignal, got ${describeValue(signal)}`);
      }
    } else if (key === "skipCache") {
      const skipCache = options.skipCache;
      if (skipCache !== undefined && typeof skipCache !== "boolean") {
        throw invalid(document, ["skipCache"], `expected a boolean, got ${describeValue(skipCache)}`);
      }
    } else {
      const guess = didYouMean(key, READ_OPTION_KEYS);
      const hint = guess === undefined ? "" : ` (did you mean ${guess}?)`;
      throw invalid(document, [key], `is not a read option${hint}; expected one of ${READ_OPTION_KEYS.join(", ")}`);
    }
  }
  const read = options as ReadOptions;
  if (read.signal?.aborted === true) throw new AbortError(read.signal.reason);
  return read;
}

function isPlainObject(value: unknown): value is ConfigObject {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function invalid(document: string, path: ReadonlyArray<string>, message: string): ValidationError {
  return new ValidationError(
    document,
    [{ path: ["options", ...path], message, code: "invalid_read_option" }],
    "read options",
  );
}

import { ValidationError } from "../kernel/errors.js";
import { MAX_COUNTER } from "./key-value-store.js";

/**
 * The counter step every backend takes atomically (the Lua of redis/kv-scripts.ts mirrors it): the current integer
 * from a live entry's value bytes (`j<integer>`), plus `by`, clamped to floor and ceiling. A counter is an ordinary
 * JSON integer entry, so `get` reads it and `set(key, 5)` seeds it.
 */
export function nextCount(current: Buffer | undefined, by: number, key: string, floor?: number, ceiling?: number) {
  let n = 0;
  if (current !== undefined) {
    const text = current.toString("latin1");
    if (!/^j-?\d{1,16}$/.test(text)) throw notACounter(key);
    n = Number(text.slice(1));
  }
  return clampCount(n + by, key, floor, ceiling);
}

export function clampCount(n: number, key: string, floor?: number, ceiling?: number): number {
  if (floor !== undefined && n < floor) n = floor;
  if (ceiling !== undefined && n > ceiling) n = ceiling;
  if (!Number.isSafeInteger(n) || Math.abs(n) > MAX_COUNTER) throw counterOverflow(key);
  return n;
}

export function notACounter(key: string): ValidationError {
  return new ValidationError(
    "cache",
    [{ path: ["key"], message: `${key} holds a value that is not an integer counter`, code: "not_a_counter" }],
    "increment",
  );
}

export function counterOverflow(key: string): ValidationError {
  return new ValidationError(
    "cache",
    [{ path: ["by"], message: `the counter ${key} would leave ±(2^53 − 1)`, code: "overflow" }],
    "increment",
  );
}

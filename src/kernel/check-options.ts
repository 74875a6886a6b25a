import { describeValue, expectConfigObject, rejectUnknownKeys } from "./config-object.js";
import { ConfigurationError } from "./errors.js";

/** Module options are checked once, at construction: an unknown key is a typo (with a hint), not something to ignore. */
export function checkObject(value: unknown, path: string): Record<string, unknown> {
  return expectConfigObject(value, path, "{ … }") as Record<string, unknown>;
}

export function checkKnownKeys(value: Record<string, unknown>, allowed: ReadonlyArray<string>, path: string): void {
  rejectUnknownKeys(value, allowed, path);
}

export function checkName(value: unknown, path: string): string {
  if (typeof value !== "string" || !/^[a-z][a-z0-9_]*$/.test(value)) {
    throw new ConfigurationError(path, `must match /^[a-z][a-z0-9_]*$/ (got ${describeValue(value)})`);
  }
  return value;
}

/** A Redis key namespace: printable, no spaces, no braces (they would break the cluster hash tag). */
export function checkNamespace(value: unknown, path: string): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > 200 ||
    !/^[\x21-\x7e]+$/.test(value) ||
    /[{}]/.test(value)
  ) {
    throw new ConfigurationError(path, "must be a non-empty printable string without spaces or braces");
  }
  return value;
}

export function checkPositiveInt(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigurationError(path, "must be a positive integer");
  }
  return value;
}

/**
 * An object the library will call (a logger, a clock): checked for every method now, so a typo or a partial object
 * fails at construction instead of throwing from deep inside a read, a retry or a timer later.
 */
export function checkMethods<T>(value: unknown, methods: ReadonlyArray<keyof T & string>, path: string): T {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) {
    throw new ConfigurationError(
      path,
      `must be an object with ${methods.map((m) => `${m}()`).join(", ")} (got ${describeValue(value)})`,
    );
  }
  const missing = methods.filter((method) => typeof (value as Record<string, unknown>)[method] !== "function");
  if (missing.length > 0) {
    throw new ConfigurationError(path, `lacks ${missing.map((m) => `${m}()`).join(", ")}`);
  }
  return value as T;
}

/** The longest delay Node's timers honour: a longer one fires after 1 ms (with a TimeoutOverflowWarning). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * A delay that ends up in `setTimeout` (a timeout, an interval, a backoff): a whole number of milliseconds from 1 to
 * MAX_TIMER_DELAY_MS (about 24.8 days). Cache lifetimes that only travel to Redis (`PX`) are not timers and are not
 * checked here.
 */
export function checkTimerDelay(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_DELAY_MS) {
    throw new ConfigurationError(
      path,
      `must be a whole number of milliseconds from 1 to ${MAX_TIMER_DELAY_MS} (about 24.8 days: Node fires a longer timer after 1 ms) (got ${describeValue(value)})`,
    );
  }
  return value;
}

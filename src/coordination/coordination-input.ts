import { describeValue, expectConfigObject, rejectUnknownKeys } from "../kernel/config-object.js";
import type { Duration } from "../kernel/duration.js";
import { parseDuration } from "../kernel/duration.js";
import { ConfigurationError, type LockLostError, ValidationError } from "../kernel/errors.js";
import { checkKvKey } from "../l2/kv-input.js";
import {
  MAX_RATE_LIMIT,
  MAX_RATE_WINDOW_MS,
  type RateLimitAlgorithm,
  type RateLimitParams,
} from "./rate-limit-model.js";

/**
 * Input rules of locks and rate limits, checked before anything is sent, the same on every backend. A bad key or
 * option is a ValidationError (code VALIDATION) whose issue path names it; nothing is written.
 */

/** Options of `cache.lock(key, options)`. */
export interface LockOptions {
  /** How long the lock lives unless extended or released; its holder learns when it runs out (`onLost`, `signal`). */
  readonly ttl: Duration;
  /**
   * Called (once per acquisition) when the lock expired or was found taken before `release()`: from then on another
   * owner may hold it. Its errors are ignored.
   */
  readonly onLost?: (error: LockLostError) => void;
}

/** The pauses of a waiting `acquire`. */
export interface RetryOptions {
  /**
   * The first pause; each next one doubles, with jitter.
   * @default "10ms"
   */
  readonly initial?: Duration;
  /**
   * The longest pause.
   * @default "250ms"
   */
  readonly max?: Duration;
}

/** How an `acquire` waits for a held lock. Absent: one attempt, no wait. */
export interface AcquireOptions {
  /**
   * How long to keep trying while another owner holds the lock; 0 (the default for `acquire`) tries once. `withLock`
   * defaults it to the lock's `ttl`.
   */
  readonly wait?: Duration | 0;
  /**
   * Pauses between attempts: capped exponential backoff with jitter, from `initial` doubling up to `max`, and never
   * past the held lock's remaining lifetime.
   * @default { initial: "10ms", max: "250ms" }
   */
  readonly retry?: RetryOptions;
  /** Aborts the wait: `acquire` rejects with AbortError (code ABORTED) and holds nothing. */
  readonly signal?: AbortSignal;
}

/** Options of `cache.withLock(key, fn, options)`: the lock's and its acquire's. */
export interface WithLockOptions extends LockOptions, AcquireOptions {}

/** Options of `cache.rateLimit(key, options)`. */
export interface RateLimitOptions {
  /** Requests (of cost 1) allowed per window: an integer from 1 to 1,000,000. */
  readonly limit: number;
  /** The window, at most 7 days. */
  readonly window: Duration;
  /**
   * `"fixed"` (aligned windows), `"sliding"` (sliding window counter) or `"gcra"` (a smooth token bucket); see the
   * README's rate-limit section for the burst each allows at a window edge.
   * @default "sliding"
   */
  readonly algorithm?: RateLimitAlgorithm;
  /**
   * This request's weight, an integer from 1 to `limit`.
   * @default 1
   */
  readonly cost?: number;
  /**
   * Only answer whether a request of this cost would pass now; nothing is counted.
   * @default false
   */
  readonly peek?: boolean;
}

export interface CheckedLock {
  readonly ttlMs: number;
  readonly onLost: ((error: LockLostError) => void) | undefined;
}

export interface CheckedAcquire {
  readonly waitMs: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly signal: AbortSignal | undefined;
}

function invalid(path: ReadonlyArray<string | number>, message: string, what = "options"): ValidationError {
  return new ValidationError("cache", [{ path, message, code: "invalid_option" }], what);
}

/** Runs a check that speaks ConfigurationError (the kernel's option rules) and re-raises it as per-call bad input. */
function asInput<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ConfigurationError) throw invalid(error.path.split("."), error.rule);
    throw error;
  }
}

function object(value: unknown, path: string, example: string, known: ReadonlyArray<string>) {
  return asInput(() => {
    const opts = expectConfigObject(value, path, example);
    rejectUnknownKeys(opts, known, path);
    return opts;
  });
}

export function checkCoordinationKey(key: unknown): string {
  return checkKvKey(key);
}

export function checkLockOptions(options: unknown): CheckedLock {
  const opts = object(options, "options", '{ ttl: "30s" }', ["ttl", "onLost"]);
  const ttlMs = asInput(() => parseDuration(opts.ttl, "options.ttl"));
  if (opts.onLost !== undefined && typeof opts.onLost !== "function")
    throw invalid(["options", "onLost"], `must be a function (got ${describeValue(opts.onLost)})`);
  return { ttlMs, onLost: opts.onLost as CheckedLock["onLost"] };
}

export function checkAcquireOptions(options: unknown, defaultWaitMs = 0): CheckedAcquire {
  const opts = options === undefined ? {} : object(options, "options", '{ wait: "5s" }', ["wait", "retry", "signal"]);
  return checkAcquireFields(opts, defaultWaitMs);
}

function checkAcquireFields(opts: Readonly<Record<string, unknown>>, defaultWaitMs: number): CheckedAcquire {
  const waitMs =
    opts.wait === undefined
      ? defaultWaitMs
      : opts.wait === 0
        ? 0
        : asInput(() => parseDuration(opts.wait, "options.wait"));
  let initialMs = 10;
  let maxMs = 250;
  if (opts.retry !== undefined) {
    const retry = object(opts.retry, "options.retry", '{ initial: "10ms", max: "250ms" }', ["initial", "max"]);
    if (retry.initial !== undefined) initialMs = asInput(() => parseDuration(retry.initial, "options.retry.initial"));
    if (retry.max !== undefined) maxMs = asInput(() => parseDuration(retry.max, "options.retry.max"));
    if (maxMs < initialMs) throw invalid(["options", "retry", "max"], "must be at least retry.initial");
  }
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw invalid(["options", "signal"], `must be an AbortSignal (got ${describeValue(signal)})`);
  return { waitMs, initialMs, maxMs, signal };
}

export function checkWithLockOptions(options: unknown): { lock: CheckedLock; acquire: CheckedAcquire } {
  const opts = object(options, "options", '{ ttl: "30s", wait: "5s" }', ["ttl", "onLost", "wait", "retry", "signal"]);
  const lock = checkLockOptions({ ttl: opts.ttl, ...(opts.onLost === undefined ? {} : { onLost: opts.onLost }) });
  return { lock, acquire: checkAcquireFields(opts, lock.ttlMs) };
}

export function checkRateLimitOptions(options: unknown): { params: RateLimitParams; peek: boolean } {
  const opts = object(options, "options", '{ limit: 100, window: "1m" }', [
    "limit",
    "window",
    "algorithm",
    "cost",
    "peek",
  ]);
  const limit = opts.limit;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RATE_LIMIT)
    throw invalid(["options", "limit"], `must be an integer from 1 to ${MAX_RATE_LIMIT} (got ${describeValue(limit)})`);
  const windowMs = asInput(() => parseDuration(opts.window, "options.window"));
  if (windowMs > MAX_RATE_WINDOW_MS) throw invalid(["options", "window"], "must be at most 7d");
  const algorithm = opts.algorithm ?? "sliding";
  if (algorithm !== "fixed" && algorithm !== "sliding" && algorithm !== "gcra")
    throw invalid(["options", "algorithm"], `must be "fixed", "sliding" or "gcra" (got ${describeValue(algorithm)})`);
  const cost = opts.cost ?? 1;
  if (typeof cost !== "number" || !Number.isSafeInteger(cost) || cost < 1 || cost > limit)
    throw invalid(["options", "cost"], `must be an integer from 1 to limit (${limit}) (got ${describeValue(cost)})`);
  if (opts.peek !== undefined && typeof opts.peek !== "boolean")
    throw invalid(["options", "peek"], `must be a boolean (got ${describeValue(opts.peek)})`);
  return { params: { algorithm, limit, windowMs, cost }, peek: opts.peek === true };
}

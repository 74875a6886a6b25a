import type { Clock } from "../kernel/clock.js";
import { LockLostError, LockTimeoutError } from "../kernel/errors.js";
import { CacheLock } from "./cache-lock.js";
import {
  checkCoordinationKey,
  checkLockOptions,
  checkRateLimitOptions,
  checkWithLockOptions,
  type LockOptions,
  type RateLimitOptions,
  type WithLockOptions,
} from "./coordination-input.js";
import type { LockStore } from "./lock-store.js";
import { outcome, type RateLimitResult } from "./rate-limit-model.js";
import type { RateLimitStore } from "./rate-limit-store.js";

/** The coordination stores of one cache namespace, built by its module (Redis, Postgres or memory). */
export interface CoordinationStores {
  readonly locks: LockStore;
  readonly rateLimits: RateLimitStore;
}

/**
 * Locks and rate limits on one cache: what `cache.lock`, `cache.withLock` and `cache.rateLimit` run. Keys are
 * checked like key/value keys and live in their own key space (they never collide with `get`/`set` keys).
 */
export class CacheCoordination {
  constructor(
    private readonly stores: CoordinationStores,
    private readonly clock: Clock,
  ) {}

  /** A lock handle on `key`; nothing is sent until `acquire`. */
  lock(key: string, options: LockOptions): CacheLock {
    return new CacheLock(this.stores.locks, checkCoordinationKey(key), checkLockOptions(options), this.clock);
  }

  /**
   * Runs `fn` holding the lock on `key` and releases it on every path. Waits up to `wait` (default: the lock's
   * `ttl`) and rejects with LockTimeoutError (code LOCKED) when it cannot get it. `fn` gets the handle: pass
   * `lock.fencingToken` to the resource you protect, and stop when `lock.signal` aborts. When the lock was lost
   * before `fn` finished, `withLock` rejects with LockLostError (code LOCK_LOST) even if `fn` resolved: its work
   * ran partly without mutual exclusion.
   */
  async withLock<T>(key: string, fn: (lock: CacheLock) => Promise<T>, options: WithLockOptions): Promise<T> {
    const checked = checkWithLockOptions(options);
    const lock = new CacheLock(this.stores.locks, checkCoordinationKey(key), checked.lock, this.clock);
    if (!(await lock.acquire(acquireOptions(checked.acquire))))
      throw new LockTimeoutError(lock.key, checked.acquire.waitMs);
    let result: T;
    try {
      result = await fn(lock);
    } catch (error) {
      await lock.release().catch(() => false);
      throw error;
    }
    // release() reports a loss it discovers on this same signal, so one check covers both ways of losing it.
    const signal = lock.signal;
    await lock.release();
    if (signal?.aborted && signal.reason instanceof LockLostError) throw signal.reason;
    return result;
  }

  /** One rate-limit decision on `key`, atomic on every backend (see RateLimitOptions and rate-limit-model.ts). */
  async rateLimit(key: string, options: RateLimitOptions): Promise<RateLimitResult> {
    const full = checkCoordinationKey(key);
    const { params, peek } = checkRateLimitOptions(options);
    const now = this.clock.now();
    const state = peek
      ? await this.stores.rateLimits.peek(full, params, now)
      : await this.stores.rateLimits.consume(full, params, now);
    return outcome(params, state, now);
  }
}

function acquireOptions(checked: {
  waitMs: number;
  initialMs: number;
  maxMs: number;
  signal: AbortSignal | undefined;
}) {
  return {
    wait: checked.waitMs,
    retry: { initial: checked.initialMs, max: checked.maxMs },
    ...(checked.signal ? { signal: checked.signal } : {}),
  };
}

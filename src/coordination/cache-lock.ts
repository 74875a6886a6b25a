import { randomUUID } from "node:crypto";
import { throwIfAborted } from "../kernel/abortable.js";
import { backoffDelay } from "../kernel/backoff.js";
import type { Clock } from "../kernel/clock.js";
import type { Duration } from "../kernel/duration.js";
import { AbortError, LockLostError } from "../kernel/errors.js";
import { type AcquireOptions, type CheckedLock, checkAcquireOptions, checkLockOptions } from "./coordination-input.js";
import type { LockStore } from "./lock-store.js";

/**
 * A lock on one key of a cache (`cache.lock(key, { ttl })`): a lease held by a random owner token, so only this
 * handle can release or extend it. It is a single-store lease — one Redis (not Redlock), one Postgres table, or one
 * process' memory — and honest about what that gives:
 * - mutual exclusion while the store keeps the key: a store that loses it (a Redis restart without persistence, a
 *   failover to a replica that had not received it) lets another owner in; this holder then learns it on its next
 *   `extend`, `isHeld` or `release`, and at the latest when its own deadline passes;
 * - the holder learns of the loss: at `ttl` after the acquire was sent (before the store can expire it) unless
 *   extended, `signal` aborts with a LockLostError and `onLost` is called;
 * - a fencing token that grows with every acquisition of the key: pass it to the resource you protect and have it
 *   refuse a token lower than one it has seen, so a holder whose lease ran out cannot write late.
 * One handle holds at most one acquisition at a time; it can be acquired again after release.
 */
export class CacheLock {
  /** The key this lock guards (in the cache's namespace). */
  readonly key: string;
  /** This handle's owner token (random); the store compares it on release and extend. */
  readonly owner: string = randomUUID();
  readonly #store: LockStore;
  readonly #options: CheckedLock;
  readonly #clock: Clock;
  #token: number | undefined;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** @internal Built by `cache.lock`. */
  constructor(store: LockStore, key: string, options: CheckedLock, clock: Clock) {
    this.#store = store;
    this.key = key;
    this.#options = options;
    this.#clock = clock;
  }

  /** The fencing token of the current acquisition; undefined when this handle has never acquired or has released. */
  get fencingToken(): number | undefined {
    return this.#token;
  }

  /**
   * Aborts (reason: a LockLostError) when the current acquisition is lost before release; a fresh, unaborted signal
   * per acquisition. Undefined when not acquired.
   */
  get signal(): AbortSignal | undefined {
    return this.#controller?.signal;
  }

  /**
   * Tries to take the lock: true when this handle now holds it (also when it already did), false when another owner
   * still held it after `wait`. Rejects with AbortError when `signal` fires (holding nothing), or UnavailableError.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const { waitMs, initialMs, maxMs, signal } = checkAcquireOptions(options);
    throwIfAborted(signal);
    if (this.#controller && !this.#controller.signal.aborted) return true;
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      const sent = performance.now();
      const result = await this.#store.acquire(this.key, this.owner, this.#options.ttlMs);
      if (result.acquired) {
        if (signal?.aborted) {
          // The caller gave up while the command was in flight: hand the lock straight back.
          await this.#store.release(this.key, this.owner).catch(() => false);
          throw new AbortError(signal.reason);
        }
        this.#hold(result.fencingToken, sent);
        return true;
      }
      const left = waitMs - (performance.now() - started);
      if (left <= 0) return false;
      const pause = Math.min(left, backoffDelay(attempt, initialMs, maxMs, this.#clock.random), result.remainingMs + 1);
      await sleep(Math.max(1, pause), signal);
    }
  }

  /**
   * Frees the lock if this handle still owns it: true when it did, false when it was not held (never acquired,
   * already released, or lost — then `onLost` has fired or fires now). Idempotent; never frees another owner's lock.
   */
  async release(): Promise<boolean> {
    const token = this.#token;
    if (token === undefined) return false;
    const released = await this.#store.release(this.key, this.owner);
    if (!released) this.#lose(token, "it was no longer held at release (expired or taken)");
    this.#end();
    return released;
  }

  /**
   * Restarts the lock's lifetime at `ttl` (default: the lock's ttl) if this handle still owns it; false (and the
   * loss reported) when it does not.
   */
  async extend(ttl?: Duration): Promise<boolean> {
    const token = this.#token;
    if (token === undefined || !this.#controller || this.#controller.signal.aborted) return false;
    const ttlMs = ttl === undefined ? this.#options.ttlMs : checkTtl(ttl);
    const sent = performance.now();
    const extended = await this.#store.extend(this.key, this.owner, ttlMs);
    if (!extended) {
      this.#lose(token, "it was no longer held at extend (expired or taken)");
      return false;
    }
    this.#arm(token, sent, ttlMs);
    return true;
  }

  /** Whether the store says this handle owns the lock now; a held lock found gone is reported lost. */
  async isHeld(): Promise<boolean> {
    const token = this.#token;
    if (token === undefined || !this.#controller || this.#controller.signal.aborted) return false;
    const held = (await this.#store.heldFor(this.key, this.owner)) > 0;
    if (!held) this.#lose(token, "the store no longer holds it for this owner");
    return held;
  }

  #hold(token: number, sent: number): void {
    this.#token = token;
    this.#controller = new AbortController();
    this.#arm(token, sent, this.#options.ttlMs);
  }

  /** The local deadline: measured from before the command was sent, so it passes no later than the store's. */
  #arm(token: number, sent: number, ttlMs: number): void {
    clearTimeout(this.#timer);
    const delay = Math.max(0, sent + ttlMs - performance.now());
    this.#timer = setTimeout(() => this.#lose(token, `its ttl (${ttlMs}ms) ran out before release`), delay);
    this.#timer.unref();
  }

  #lose(token: number, why: string): void {
    const controller = this.#controller;
    clearTimeout(this.#timer);
    if (!controller || controller.signal.aborted || this.#token !== token) return;
    const error = new LockLostError(this.key, token, why);
    controller.abort(error);
    try {
      this.#options.onLost?.(error);
    } catch {
      // onLost is the caller's; its failure must not break the lock's bookkeeping.
    }
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#token = undefined;
    this.#controller = undefined;
  }
}

function checkTtl(ttl: unknown): number {
  return checkLockOptions({ ttl }).ttlMs;
}

/** Resolves after `ms`, or rejects with AbortError as soon as `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

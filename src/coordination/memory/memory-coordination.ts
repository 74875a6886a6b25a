import type { Clock } from "../../kernel/clock.js";
import type { CoordinationStores } from "../cache-coordination.js";
import { FENCE_COUNTER_TTL_MS, type LockAcquireResult, type LockStore } from "../lock-store.js";
import { type RateLimitParams, type RateLimitState, type RateState, stateTtlMs, step } from "../rate-limit-model.js";
import type { RateLimitStore } from "../rate-limit-store.js";

interface Slot<T> {
  value: T;
  expiresAt: number;
}

/** Maps with lazy expiry on a clock; every operation runs synchronously, hence atomically. */
class ExpiringMap<T> {
  readonly #data = new Map<string, Slot<T>>();

  constructor(private readonly clock: Pick<Clock, "now">) {}

  get(key: string): Slot<T> | undefined {
    const slot = this.#data.get(key);
    if (slot && slot.expiresAt <= this.clock.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return slot;
  }

  set(key: string, value: T, ttlMs: number): void {
    this.#data.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  delete(key: string): void {
    this.#data.delete(key);
  }

  /** Drops expired slots, so keys used once do not pile up. */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, slot] of this.#data) if (slot.expiresAt <= now) this.#data.delete(key);
  }

  get size(): number {
    return this.#data.size;
  }
}

/**
 * Real time for locks: a lock's lifetime is measured by the holder's timers (CacheLock), so the store must expire
 * it on the same time base, whatever clock the runtime was given. Epoch ms, never stepping back.
 */
const realTime = { now: () => performance.timeOrigin + performance.now() };

/**
 * Locks and rate limits in this process: exact for one process (every step is synchronous), invisible to others.
 * One instance per cache namespace. Locks expire in real time; rate-limit state expires on the runtime's clock,
 * the one its decisions are made on.
 */
export class MemoryCoordination implements CoordinationStores, LockStore, RateLimitStore {
  readonly #locks: ExpiringMap<string>;
  readonly #fences: ExpiringMap<number>;
  readonly #rates: ExpiringMap<RateState>;
  #ops = 0;

  constructor(clock: Clock) {
    this.#locks = new ExpiringMap(realTime);
    this.#fences = new ExpiringMap(realTime);
    this.#rates = new ExpiringMap(clock);
  }

  get locks(): LockStore {
    return this;
  }

  get rateLimits(): RateLimitStore {
    return this;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<LockAcquireResult> {
    this.#tick();
    const held = this.#locks.get(key);
    if (held) return { acquired: false, remainingMs: Math.max(1, held.expiresAt - realTime.now()) };
    const last = this.#fences.get(key)?.value ?? 0;
    const fencingToken = Math.max(last + 1, Math.floor(realTime.now() * 1000));
    this.#fences.set(key, fencingToken, Math.max(FENCE_COUNTER_TTL_MS, ttlMs));
    this.#locks.set(key, owner, ttlMs);
    return { acquired: true, fencingToken };
  }

  async release(key: string, owner: string): Promise<boolean> {
    if (this.#locks.get(key)?.value !== owner) return false;
    this.#locks.delete(key);
    return true;
  }

  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.#locks.get(key)?.value !== owner) return false;
    this.#locks.set(key, owner, ttlMs);
    return true;
  }

  async heldFor(key: string, owner: string): Promise<number> {
    const slot = this.#locks.get(key);
    return slot?.value === owner ? Math.max(1, slot.expiresAt - realTime.now()) : 0;
  }

  async consume(key: string, params: RateLimitParams, now: number): Promise<RateLimitState> {
    this.#tick();
    const result = step(params, this.#rates.get(key)?.value, now, true);
    if (result.allowed) this.#rates.set(key, result.state, stateTtlMs(params, result.state, now));
    return result;
  }

  async peek(key: string, params: RateLimitParams, now: number): Promise<RateLimitState> {
    return step(params, this.#rates.get(key)?.value, now, false);
  }

  /** Every 1,024 writes, a sweep of expired slots. */
  #tick(): void {
    if ((++this.#ops & 1023) !== 0) return;
    this.#locks.sweep();
    this.#fences.sweep();
    this.#rates.sweep();
  }
}

/**
 * The lock port: what a backend does atomically for one lock key. Owner tokens and fencing tokens are the contract:
 * - `acquire` succeeds only when no live owner holds the key, and then returns a fencing token strictly greater than
 *   every token it returned for that key before (see FENCING_TOKENS below);
 * - `release` and `extend` act only when `owner` is the live owner, checked and applied in one atomic step.
 * Every method rejects with an UnavailableError when the backend fails; the caller then knows nothing new.
 */
export interface LockStore {
  /** Takes the key for `owner` for `ttlMs` when free: the fencing token, or the held lock's remaining ms. */
  acquire(key: string, owner: string, ttlMs: number): Promise<LockAcquireResult>;
  /** Frees the key when `owner` holds it; false when it does not (expired, or another owner). */
  release(key: string, owner: string): Promise<boolean>;
  /** Restarts the key's lifetime at `ttlMs` when `owner` holds it; false when it does not. */
  extend(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** The remaining ms when `owner` holds the key, else 0. */
  heldFor(key: string, owner: string): Promise<number>;
}

/** The outcome of LockStore.acquire. */
export type LockAcquireResult =
  | { readonly acquired: true; readonly fencingToken: number }
  | { readonly acquired: false; readonly remainingMs: number };

/**
 * FENCING_TOKENS: every adapter issues `max(last token of the key + 1, the store's clock in microseconds)`. The
 * counter makes tokens strictly increase while it lives; the clock keeps them increasing when the counter itself is
 * gone — swept after a day of disuse, or lost by a store restart without persistence — as long as the store's clock
 * does not step back. Microseconds since the epoch stay below 2^53 until the year 2255.
 */
export const FENCE_COUNTER_TTL_MS = 86_400_000;

/** What happened to a failed write-through in the retrier. */
export type WriteRetryState = "scheduled" | "succeeded" | "gave-up";

/**
 * `stratacache:write.retry`: the retrier of failed post-commit write-throughs (the first attempt is on
 * `stratacache:write` with result `failed`). `scheduled`: an attempt is due in `delayMs` (after the first failure,
 * and after each failed retry, with its error); `succeeded`: a retry landed; `gave-up`: `maxAttempts` failed, the
 * id's reads bypass L2 until its entries expire. A retry superseded by a newer write is dropped without an event.
 */
export interface WriteRetryEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** The document id. */
  readonly id: string;
  /** What happened. */
  readonly state: WriteRetryState;
  /** Retries made so far (0 when the first retry is scheduled). */
  readonly attempts: number;
  /** `scheduled`: milliseconds until the next attempt; otherwise 0. */
  readonly delayMs: number;
  /** The failure of the attempt that led here (`scheduled` after a failed retry, `gave-up`); else undefined. */
  readonly error: unknown;
}

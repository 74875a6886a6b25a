import { backoffDelay } from "../kernel/backoff.js";
import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import { RateLimitedLog } from "../kernel/rate-limited-log.js";
import { compareVersions } from "../l2/version-order.js";
import { writeRetryChannel } from "../observability/event-channels.js";
import type { WriteRetryEvent, WriteRetryState } from "../observability/write-retry-events.js";

/** A post-commit cache write that failed and is retried until it lands or is superseded. */
export interface PendingWrite {
  /** The version whose write failed: a pending write is superseded by one at least as new (see `landed`). */
  readonly incarnation: number;
  readonly rev: number;
  /**
   * One attempt. It must write the version committed *at the time of the attempt* (re-read from the database),
   * fenced — never the version captured when the first write failed: after a Redis restart has wiped the version
   * floors, a replica retrying an old version would otherwise put it in place of a newer one that another replica
   * had committed and written through.
   */
  run(): Promise<unknown>;
}

export interface RetrierOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  /** After giving up, the id stays "suspect" (reads bypass L2) this long: until any stale entry has expired. */
  readonly quarantineMs: number;
}

/**
 * Retries failed write-throughs with capped exponential backoff and jitter. While an id has a write pending here
 * it is "suspect": the coordinator reads it from Postgres and does not trust or fill L2, which keeps
 * read-your-writes even though L2 may still hold the older version. A committed write is never turned into an error.
 */
export class WriteThroughRetrier {
  readonly #pending = new Map<string, { write: PendingWrite; attempt: number; timer: NodeJS.Timeout | undefined }>();
  readonly #quarantine = new Map<string, number>();
  #stopped = false;
  /** Retries during an outage: one warning per 10 s with a count, not one per id and attempt. */
  readonly #degraded: RateLimitedLog;

  constructor(
    private readonly document: string,
    private readonly options: RetrierOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.#degraded = new RateLimitedLog(logger, clock);
  }

  isSuspect(id: string): boolean {
    if (this.#pending.has(id)) return true;
    const until = this.#quarantine.get(id);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.#quarantine.delete(id);
    return false;
  }

  /** Hands over a failed write; a pending write of an older version for the same id is replaced. */
  schedule(id: string, write: PendingWrite): void {
    if (this.#stopped) return;
    const current = this.#pending.get(id);
    if (current && compareVersions(write, current.write) < 0) return; // the pending one is newer: it covers this one
    if (current?.timer) clearTimeout(current.timer);
    const slot = { write, attempt: 0, timer: undefined as NodeJS.Timeout | undefined };
    this.#pending.set(id, slot);
    this.#arm(id, slot);
  }

  /** A write of (incarnation, rev) for `id` landed: pending writes it supersedes are dropped. */
  landed(id: string, incarnation: number, rev: number): void {
    const current = this.#pending.get(id);
    if (current && compareVersions({ incarnation, rev }, current.write) >= 0) {
      if (current.timer) clearTimeout(current.timer);
      this.#pending.delete(id);
    }
  }

  /** Whether any id is suspect (pending or quarantined): when not, batch reads skip the per-id check. */
  get idle(): boolean {
    if (this.#pending.size > 0) return false;
    if (this.#quarantine.size === 0) return true;
    const now = this.clock.now();
    for (const [id, until] of this.#quarantine) if (until <= now) this.#quarantine.delete(id);
    return this.#quarantine.size === 0;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#pending.size > 0) {
      this.logger.warn(
        "runtime stopping with cache write-throughs still failing; L2 may hold older versions until ttl",
        {
          document: this.document,
          ids: this.#pending.size,
        },
      );
    }
    for (const slot of this.#pending.values()) if (slot.timer) clearTimeout(slot.timer);
    this.#pending.clear();
    this.#quarantine.clear();
  }

  #publish(id: string, state: WriteRetryState, attempts: number, delayMs: number, error: unknown): void {
    const event: WriteRetryEvent = { document: this.document, id, state, attempts, delayMs, error };
    writeRetryChannel.publish(event);
  }

  #arm(
    id: string,
    slot: { write: PendingWrite; attempt: number; timer: NodeJS.Timeout | undefined },
    error?: unknown,
  ): void {
    const { baseDelayMs, maxDelayMs } = this.options;
    const delay = backoffDelay(slot.attempt, baseDelayMs, maxDelayMs, () => this.clock.random());
    if (writeRetryChannel.hasSubscribers) this.#publish(id, "scheduled", slot.attempt, delay, error);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.#attempt(id, slot);
    }, delay);
    slot.timer.unref?.();
  }

  async #attempt(id: string, slot: { write: PendingWrite; attempt: number; timer: NodeJS.Timeout | undefined }) {
    if (this.#pending.get(id) !== slot) return;
    try {
      await slot.write.run();
      if (this.#pending.get(id) === slot) this.#pending.delete(id);
      if (writeRetryChannel.hasSubscribers) this.#publish(id, "succeeded", slot.attempt + 1, 0, undefined);
      this.logger.info("cache write-through landed after retry", {
        document: this.document,
        id,
        attempts: slot.attempt + 1,
      });
    } catch (error) {
      if (this.#pending.get(id) !== slot || this.#stopped) return;
      slot.attempt++;
      if (slot.attempt >= this.options.maxAttempts) {
        this.#pending.delete(id);
        this.#quarantine.set(id, this.clock.now() + this.options.quarantineMs);
        if (writeRetryChannel.hasSubscribers) this.#publish(id, "gave-up", slot.attempt, 0, error);
        this.logger.error("cache write-through gave up; id reads bypass L2 until its entries expire", {
          document: this.document,
          id,
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      this.#degraded.warn("retry", "cache write-through failed; retrying", {
        document: this.document,
        id,
        attempt: slot.attempt,
        error: error instanceof Error ? error.message : String(error),
      });
      this.#arm(id, slot, error);
    }
  }
}

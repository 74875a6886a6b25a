import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import type { DocumentEntryStore, PutResult } from "../l2/document-entry.js";
import { TOMBSTONE_REV } from "../l2/document-entry.js";
import { callChannel, writeChannel } from "../observability/event-channels.js";
import { publishCall, publishWrite, wallNow } from "../observability/publish.js";
import type { DocumentRepository, StoredRow, TransactionScope } from "../repository/document-repository.js";
import { fitsIn } from "./body-size.js";
import type { DocumentCounters } from "./document-stats.js";
import type { LifetimePolicy } from "./lifetime-policy.js";
import { WriteThroughRetrier } from "./write-through-retrier.js";

export interface WriteThroughParts {
  readonly document: string;
  /** L2; undefined when the document is not cached (then every hook is a no-op). */
  readonly entries: DocumentEntryStore | undefined;
  /** Where a retry re-reads what is committed now. */
  readonly repository: DocumentRepository;
  readonly autocommit: TransactionScope;
  readonly lifetimes: LifetimePolicy;
  /** Bodies over this many bytes are not cached (undefined: no limit). */
  readonly maxBodyBytes: number | undefined;
  readonly counters: DocumentCounters;
  /** Counts and reports a failed L2 call. */
  readonly onL2Error: (operation: string, error: unknown) => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The write path after a commit (invariant 2: read-your-writes). An update writes its new version through to L2,
 * fenced (a body too big to cache leaves a tombstone instead, so no older version stays); a delete leaves a
 * tombstone; a create clears whatever older L2 holds for the id. A write that fails is handed to the retrier, and
 * until it lands the id is *suspect*: reads go to Postgres and do not fill L2. A retry writes what is committed at
 * the time of the retry, never the version that failed, so retries from several replicas landing in any order —
 * even after a Redis restart wiped the version floors — never put an older version in place of a newer one.
 * A committed write is never turned into an error.
 */
export class WriteThrough {
  readonly #retrier: WriteThroughRetrier;

  constructor(private readonly parts: WriteThroughParts) {
    this.#retrier = new WriteThroughRetrier(
      parts.document,
      { baseDelayMs: 50, maxDelayMs: 5_000, maxAttempts: 12, quarantineMs: parts.lifetimes.longestMs },
      parts.clock,
      parts.logger,
    );
  }

  /** Whether reads of `id` must bypass L2 (a write-through of it is pending or was given up on). */
  isSuspect(id: string): boolean {
    return this.#retrier.isSuspect(id);
  }

  /** Whether no id is suspect: batch reads then skip the per-id check. */
  get idle(): boolean {
    return this.#retrier.idle;
  }

  /**
   * After a create: clear whatever older L2 holds for the id (fenced, raising the version floor to the new
   * version). A new id normally has nothing cached, but an earlier life whose row vanished without a tombstone
   * (TRUNCATE, a restore, a raw DELETE) or planted bytes would otherwise be served as a hit. The new version itself
   * is not written: read-through fills it on first read, with a measured fetch cost for early refresh, and
   * documents that are never read never occupy the cache. A clear writes no version, so it is not counted.
   */
  async afterCreate(row: StoredRow): Promise<void> {
    const entries = this.parts.entries;
    if (entries === undefined) return;
    const { tombstoneTtlMs, slideMs } = this.parts.lifetimes;
    const write = () => entries.clear(row.id, row.incarnation, row.rev, tombstoneTtlMs, slideMs);
    await this.#write(row.id, row.incarnation, row.rev, write, false);
  }

  /** After an update: the new version, fenced, raising the id's version floor. */
  async afterUpdate(row: StoredRow): Promise<void> {
    const entries = this.parts.entries;
    if (entries === undefined) return;
    const entry = this.parts.lifetimes.entryFor(row, undefined);
    if (fitsIn(entry.body, this.parts.maxBodyBytes)) {
      const { lifetimes } = this.parts;
      const write = () => entries.writeThrough(row.id, entry, lifetimes.physicalTtl(entry), lifetimes.slideMs);
      await this.#write(row.id, row.incarnation, row.rev, write);
    } else {
      // Too big to cache: fence the older versions out with a tombstone (a miss for readers) instead.
      this.parts.counters.tooLarge++;
      await this.#tombstone(row.id, row.incarnation);
    }
  }

  /** After a delete: a tombstone for the incarnation, outliving any fill in flight. */
  async afterDelete(row: StoredRow): Promise<void> {
    if (this.parts.entries === undefined) return;
    await this.#tombstone(row.id, row.incarnation);
  }

  stop(): void {
    this.#retrier.stop();
  }

  async #tombstone(id: string, incarnation: number): Promise<void> {
    const entries = this.parts.entries!;
    const { tombstoneTtlMs, slideMs } = this.parts.lifetimes;
    const write = () => entries.tombstone(id, incarnation, tombstoneTtlMs, slideMs);
    await this.#write(id, incarnation, TOMBSTONE_REV, write);
  }

  async #write(
    id: string,
    incarnation: number,
    rev: number,
    write: () => Promise<unknown>,
    counted = true,
  ): Promise<void> {
    const { counters } = this.parts;
    const observed = writeChannel.hasSubscribers || callChannel.hasSubscribers;
    const startTime = observed ? wallNow() : 0;
    try {
      const result = await write();
      if (counted) {
        counters.writeThroughs++;
        if (result === "rejected") {
          counters.fillsRejected++;
          counters.writeThroughsRejected++;
        }
      }
      this.#retrier.landed(id, incarnation, rev);
      if (observed)
        this.#publish(id, rev, counted, result === "rejected" ? "rejected" : "stored", startTime, undefined);
    } catch (error) {
      counters.writeThroughFailures++;
      if (observed) this.#publish(id, rev, counted, "failed", startTime, error);
      this.parts.onL2Error("write-through", error);
      this.#retrier.schedule(id, { incarnation, rev, run: () => this.#rewrite(id, incarnation) });
    }
  }

  /** The write's events: its fence script call, and the write-through (the kind follows from how #write was called). */
  #publish(
    id: string,
    rev: number,
    counted: boolean,
    result: "stored" | "rejected" | "failed",
    startTime: number,
    error: unknown,
  ): void {
    const { document } = this.parts;
    if (callChannel.hasSubscribers) publishCall(document, "redis", "EVALSHA", startTime, error);
    const kind = !counted ? "create" : rev === TOMBSTONE_REV ? "delete" : "update";
    if (writeChannel.hasSubscribers) publishWrite(document, id, kind, result, startTime);
  }

  /**
   * One retry: a fenced write of the version committed *now* (or a tombstone when the row is gone or too big to
   * cache). A create's failed clear is retried the same way: writing the row through replaces anything older.
   */
  async #rewrite(id: string, incarnation: number): Promise<PutResult> {
    const entries = this.parts.entries!;
    const { lifetimes } = this.parts;
    const row = await this.parts.repository.get(this.parts.autocommit, id);
    this.parts.counters.fetches++;
    if (row !== undefined) {
      const entry = lifetimes.entryFor(row, undefined);
      if (fitsIn(entry.body, this.parts.maxBodyBytes)) {
        return entries.writeThrough(id, entry, lifetimes.physicalTtl(entry), lifetimes.slideMs);
      }
    }
    return entries.tombstone(id, row?.incarnation ?? incarnation, lifetimes.tombstoneTtlMs, lifetimes.slideMs);
  }
}

import type { DocumentEntryStore, PutResult } from "../l2/document-entry.js";
import type { CaptureTarget } from "./capture-target.js";

/** What the runtime hands over for one cached document. */
export interface DocumentCaptureParts {
  readonly entries: DocumentEntryStore;
  /** How long the version floor and tombstones fence older fills out: the document's longest lifetime. */
  readonly ttlMs: number;
  /** The sliding idle window (0 when off). */
  readonly slideMs: number;
  /** Drops the id from this process's L1 and voids its fills in flight. */
  readonly dropLocal: (id: string) => void;
  /** Drops this process's whole L1 of the document. */
  readonly flushLocal: () => void;
}

/**
 * The relay's view of one cached document: the same fences the write path uses (`clear` raises the version floor
 * and deletes an older entry; `tombstone` ends a life), then the local L1.
 */
export class DocumentCaptureTarget implements CaptureTarget {
  constructor(private readonly parts: DocumentCaptureParts) {}

  async invalidate(id: string, incarnation: number, rev: number): Promise<PutResult> {
    const { entries, ttlMs, slideMs, dropLocal } = this.parts;
    const result = await entries.clear(id, incarnation, rev, ttlMs, slideMs);
    dropLocal(id);
    return result;
  }

  async remove(id: string, incarnation: number): Promise<PutResult> {
    const { entries, ttlMs, slideMs, dropLocal } = this.parts;
    const result = await entries.tombstone(id, incarnation, ttlMs, slideMs);
    dropLocal(id);
    return result;
  }

  async flushAll(): Promise<void> {
    // L1 first and again after: a read between the two sees L2 without the entries it could refill L1 from.
    this.parts.flushLocal();
    const { entries } = this.parts;
    if (entries.clearAll === undefined) throw new Error("this cache cannot delete a document's entries");
    await entries.clearAll();
    this.parts.flushLocal();
  }
}

/** A document without a cache: nothing to invalidate. */
export const NO_CACHE_TARGET: CaptureTarget = {
  invalidate: async () => "rejected",
  remove: async () => "rejected",
  flushAll: async () => {},
};

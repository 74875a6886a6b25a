import type { PutResult } from "../l2/document-entry.js";

/**
 * Where the relay sends the invalidations of one document: its L2 entries (fenced, so an older version never lands
 * over a newer one) and the L1 of the process running the relay. Other processes' L1s are dropped by push
 * invalidation (Redis tracking) once the L2 key changes. Rejections mean L2 already had that version or newer.
 */
export interface CaptureTarget {
  /** The row now has (incarnation, rev): drop older cached versions and fence older fills out. */
  invalidate(id: string, incarnation: number, rev: number): Promise<PutResult>;
  /** The life `incarnation` of the id ended: a tombstone. */
  remove(id: string, incarnation: number): Promise<PutResult>;
  /** Every row may have changed (TRUNCATE, or changes lost): delete every cached entry of the document. */
  flushAll(): Promise<void>;
}

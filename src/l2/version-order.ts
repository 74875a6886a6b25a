import { TOMBSTONE_REV } from "./document-entry.js";

/**
 * Version ordering, the one JS home of "which is newer" (the Lua fence, fence-script.ts, necessarily keeps its own
 * copy of `supersedes`; the memory backend runs this one, and fence-equivalence tests hold the two equal).
 *
 * A version is (incarnation, rev): incarnations order lives of an id, revs order states within a life, and a
 * tombstone's rev (TOMBSTONE_REV, +∞) tops its incarnation. Freshness only breaks a tie between equal versions.
 */
export interface Version {
  readonly incarnation: number;
  readonly rev: number;
  /** Breaks a tie between equal versions when both sides carry it (entries do, version floors do not). */
  readonly freshUntil?: number;
}

/** Positive when `a` is newer than `b`, negative when older, 0 for the same (incarnation, rev). */
export function compareVersions(a: Version, b: Version): number {
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation ? 1 : -1;
  if (a.rev !== b.rev) return a.rev > b.rev ? 1 : -1;
  return 0;
}

/**
 * The fence's rule: whether what is `stored` keeps a put of `next` out — a newer version, the tombstone of the same
 * incarnation, or the same version at least as fresh (when both carry `freshUntil`).
 */
export function supersedes(stored: Version, next: Version): boolean {
  const order = compareVersions(stored, next);
  if (order !== 0) return order > 0;
  if (stored.rev === TOMBSTONE_REV) return true;
  return stored.freshUntil !== undefined && next.freshUntil !== undefined && stored.freshUntil >= next.freshUntil;
}

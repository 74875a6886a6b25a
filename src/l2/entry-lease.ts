import type { EntryPut, EntryRead, PutResult } from "./document-entry.js";

/**
 * Fill leases (Facebook memcache style): on a miss, one atomic step returns the entry or hands the reader a lease
 * on the id, so across every process only the lease holder reads Postgres and fills. The lease is an efficiency
 * device: the version fences still decide what may be stored, and a lease always expires (PX), so a holder that
 * died costs waiters at most the lease's lifetime.
 *
 * A lease lives in its own key beside the entry (`<namespace>|lease:<fingerprint>:{<id>}`, see key-layout.ts): the
 * same hash slot, and outside the prefix push invalidation tracks, so taking or dropping a lease invalidates nobody.
 */

/**
 * What a lookup that may lease found, per id:
 * - `"fresh"`: the entry is fresh by its header (no lease was taken; the caller still judges it);
 * - `"granted"`: the entry is missing, stale or a tombstone, and the caller now holds the lease (its token);
 * - `"held"`: the entry is missing, stale or a tombstone, and another reader holds the lease: wait for its fill;
 * - `"absent"`: a holder just found nothing to fill (no row; a loader's `undefined`) and left a marker in the lease
 *   key for one lease life (markAbsent): the key is absent, without a read of one's own. A write drops the marker.
 */
export type LeaseState = "fresh" | "granted" | "held" | "absent";

/** The value of a lease key that marks its id absent (tokens never start with `!`). */
export const ABSENT_MARKER = "!absent";

export interface LeaseRead {
  /** The entry as a plain read would return it (a stale entry is returned too: grace data for waiters). */
  readonly read: EntryRead;
  readonly state: LeaseState;
}

/** Whether a leased fill landed: `"lost"` when the token was no longer current (voided by a write, or expired). */
export type LeasedPutResult = PutResult | "lost";

/**
 * The lease capability of one document's entries in one backend (CacheNamespace.leases). Every method may reject on
 * a store failure; the caller then behaves as without leases (a Redis fault never fails a read).
 */
export interface EntryLeases {
  /**
   * Per id, in order: the entry, and a lease for its token (lasting `leaseMs`) when the entry is not fresh at `now`
   * and nobody holds one. `tokens`: one for every id, or one per id (waiters of several lookups polled together).
   * One round trip per hash slot.
   */
  readOrLease(
    ids: ReadonlyArray<string>,
    tokens: string | ReadonlyArray<string>,
    leaseMs: number,
    now: number,
    slideMs?: number,
  ): Promise<LeaseRead[]>;
  /**
   * Fenced fills by a lease holder: each lands only while `token` still holds the id's lease **and** the fence
   * accepts it (set-if-newer, DocumentEntryStore.put); the lease is dropped either way.
   */
  fill(items: ReadonlyArray<EntryPut>, token: string, slideMs?: number): Promise<LeasedPutResult[]>;
  /** Pushes the lease's expiry to `leaseMs` from now, if `token` still holds it; false when it does not. */
  renew(id: string, token: string, leaseMs: number): Promise<boolean>;
  /** Drops the leases `token` holds on `ids` (a holder that will not fill: fetch failed). */
  release(ids: ReadonlyArray<string>, token: string): Promise<void>;
  /**
   * Turns the leases `token` holds on `ids` into absent markers lasting `leaseMs` (the holder found no row): the
   * waiters read "absent" rather than leasing and reading Postgres one after another.
   */
  markAbsent(ids: ReadonlyArray<string>, token: string, leaseMs: number): Promise<void>;
  /** Takes the lease only if nobody holds it (XFetch early refresh: whoever loses keeps serving the entry). */
  tryLease(ids: ReadonlyArray<string>, token: string, leaseMs: number): Promise<boolean[]>;
  /** Drops the lease of `id` whoever holds it: a write voids a fill in flight, so the next reader leases at once. */
  voidLease(id: string): Promise<void>;
}

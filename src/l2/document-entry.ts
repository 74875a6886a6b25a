/**
 * Versioned document entries: what the read-through coordinator stores in L2.
 *
 * A version is the pair (incarnation, rev). Incarnation grows each time an id is (re)created, rev each time it is
 * updated, so the pair orders every state an id has ever had. Fences compare versions and never the JSON body.
 */

/** One cached document. `body` is the document serialised by the coordinator; stores never look inside it. */
export interface DocumentEntry {
  readonly incarnation: number;
  readonly rev: number;
  /** Wall-clock ms when the value was read from Postgres (or written through). */
  readonly fetchedAt: number;
  /** How long the Postgres fetch took, in ms; 0 for write-throughs. XFetch scales early refresh by it. */
  readonly delta: number;
  /** Wall-clock ms after which the entry is stale (still usable within grace). */
  readonly freshUntil: number;
  readonly body: string;
}

/** A tombstone's rev: above any real rev, so no fill of that incarnation can pass it. */
export const TOMBSTONE_REV = Number.POSITIVE_INFINITY;

/**
 * The outcome of reading one entry. Sentinels are strings so a lookup never allocates beyond the entry itself.
 * - `"miss"`: no entry.
 * - `"tombstone"`: the id was deleted; the caller treats it as a miss (the tombstone only fences stale fills).
 * - `"corrupt"`: undecodable, truncated, old-format or foreign-fingerprint bytes; a miss, and the next fill replaces it.
 */
export type EntryRead = DocumentEntry | "miss" | "tombstone" | "corrupt";

/** Whether a fenced write landed. `"rejected"` means a newer version was already there. */
export type PutResult = "stored" | "rejected";

export interface EntryPut {
  readonly id: string;
  readonly entry: DocumentEntry;
  /** Physical lifetime in ms (freshness + grace). */
  readonly ttlMs: number;
}

/**
 * Sliding expiry (`slideMs` > 0 on every call of a document with `slidingTtl`): each entry has an idle clock beside
 * it, restarted by every put and pushed back by every read; an entry whose clock ran out reads as a miss, though
 * its absolute lifetime (the entry's own expiry) still caps it. The clock key shares the entry's hash slot and lives
 * outside the namespace prefix that push invalidation tracks, so extending it invalidates nobody.
 */

/**
 * Versioned entries of one document type in one cache backend. Every write is fenced: it lands only when the
 * stored version is older (or equal and less fresh), or absent, or corrupt, or foreign (no TTL) — and not older than
 * the version floor that write-throughs and tombstones leave (fence-script.ts states the rules and their bounds).
 * All methods may reject on a store failure; the coordinator counts and absorbs those.
 */
export interface DocumentEntryStore {
  /**
   * True when every call completes in this process with no connection to queue on (the memory backend, a Postgres
   * cache table on PGlite). A read's fill is then made at once instead of after the turn (see kernel/after-turn.ts):
   * nothing the caller sends next can wait behind it, and a loop that never yields to the event loop — an embedded
   * Postgres answers in microtasks — would otherwise never see a fill land.
   */
  readonly inProcess?: boolean;
  read(id: string, slideMs?: number): Promise<EntryRead>;
  /** One result per id, in order; one round trip per hash slot. */
  readMany(ids: ReadonlyArray<string>, slideMs?: number): Promise<EntryRead[]>;
  /** Set-if-newer, for fills after a Postgres read. */
  put(id: string, entry: DocumentEntry, ttlMs: number, slideMs?: number): Promise<PutResult>;
  /**
   * Set-if-newer for a write-through after a commit. It also raises the id's version floor, which keeps fencing
   * older fills for `ttlMs` even if the entry itself is evicted or deleted in the meantime.
   */
  writeThrough(id: string, entry: DocumentEntry, ttlMs: number, slideMs?: number): Promise<PutResult>;
  /** Many fenced puts, one round trip per hash slot; one result per item, in order. */
  putMany(items: ReadonlyArray<EntryPut>, slideMs?: number): Promise<PutResult[]>;
  /**
   * After a create: deletes the id's entry unless it already holds (incarnation, rev) or newer, and raises the
   * version floor to it for `ttlMs`, so nothing older — an earlier life left by a TRUNCATE, a planted or corrupt
   * entry, a slow reader's fill of the old life — is served or filled after the create. The first read fills.
   */
  clear(id: string, incarnation: number, rev: number, ttlMs: number, slideMs?: number): Promise<PutResult>;
  /** Marks the incarnation deleted (entry and version floor); it outlives fills in flight for `ttlMs`. */
  tombstone(id: string, incarnation: number, ttlMs: number, slideMs?: number): Promise<PutResult>;
  /**
   * Deletes every entry of this document (a TRUNCATE seen by change capture, or a lost replication slot); resolves
   * with how many were deleted. Not fenced: a fill already in flight may land afterwards (its version is then the
   * only one left, and it is as old as the fill's read). Both backends implement it; optional for test doubles.
   */
  clearAll?(): Promise<number>;
}

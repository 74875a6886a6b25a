import type { Clock } from "../kernel/clock.js";
import type { DocumentEntry } from "../l2/document-entry.js";
import type { StoredRow } from "../repository/document-repository.js";
import type { CacheSpec } from "../spec/document-spec.js";
import { encodeBody } from "./document-codec.js";

/**
 * The bounds on how long a document's L2 keys live, which the fence and the read path enforce against foreign data
 * (fence-script.ts):
 * - `freshMs`: the longest freshness a version is ever given (`ttl`, or `ageTtl.max` when longer).
 * - `maxTtlMs`: the longest PX the library ever writes for the document — a tombstone and its floor, which must
 *   outlive any fill in flight: freshness + grace, at least 60 s. Entries and write-through floors live
 *   freshness + grace at most, so no key of ours ever has a longer TTL.
 */
export interface EntryLifetime {
  readonly freshMs: number;
  readonly maxTtlMs: number;
}

/** At least this long a tombstone fences fills in flight (fills older than half of it are dropped). */
const MIN_TOMBSTONE_MS = 60_000;

export function entryLifetime(cache: CacheSpec | undefined): EntryLifetime {
  const freshMs = Math.max(cache?.ttlMs ?? 0, cache?.ageTtl?.maxMs ?? 0);
  return { freshMs, maxTtlMs: Math.max(MIN_TOMBSTONE_MS, freshMs + (cache?.graceMs ?? 0)) };
}

/**
 * Every lifetime a document's entries get, derived once from its cache spec: freshness (`ttl`, or the age
 * heuristic `clamp(alpha × age, min, max)`), the physical lifetime in L2 (freshness + grace, so stale-if-error and
 * XFetch share one clock), the sliding idle window, and the tombstone lifetime that must outlive any fill in flight
 * (invariant 1: a fill older than half of it is dropped, since it may predate a delete whose tombstone is gone).
 */
export class LifetimePolicy {
  readonly ttlMs: number;
  readonly graceMs: number;
  /** The sliding idle window; 0 when off. */
  readonly slideMs: number;
  /** The longest freshness any entry gets (see EntryLifetime). */
  readonly freshMs: number;
  readonly tombstoneTtlMs: number;
  /** The longest freshness plus grace: how long a stale entry can survive in L2. */
  readonly longestMs: number;
  readonly #ageTtl: CacheSpec["ageTtl"];

  constructor(
    cache: CacheSpec | undefined,
    private readonly clock: Clock,
  ) {
    const bounds = entryLifetime(cache);
    this.ttlMs = cache?.ttlMs ?? 0;
    this.graceMs = cache?.graceMs ?? 0;
    this.slideMs = cache?.slidingTtlMs ?? 0;
    this.#ageTtl = cache?.ageTtl;
    this.freshMs = bounds.freshMs;
    this.tombstoneTtlMs = bounds.maxTtlMs;
    this.longestMs = bounds.freshMs + this.graceMs;
  }

  /** Freshness lifetime of a version read at `now`: the age heuristic when configured, else `ttl`. */
  lifetime(row: StoredRow, now: number): number {
    const age = this.#ageTtl;
    if (age === undefined) return this.ttlMs;
    const lifetime = age.alpha * (now - row.updatedAt.getTime());
    return Math.min(age.maxMs, Math.max(age.minMs, Number.isFinite(lifetime) ? lifetime : age.minMs));
  }

  /**
   * The entry for a version read from Postgres by a fetch that began at `started`; `started` undefined means a
   * write-through (delta 0: never elected for early refresh before it expires).
   */
  entryFor(row: StoredRow, started: number | undefined): DocumentEntry {
    const now = this.clock.now();
    return {
      incarnation: row.incarnation,
      rev: row.rev,
      fetchedAt: now,
      // At least 1 ms: the clock counts whole milliseconds, and a delta of 0 would switch XFetch off for the entry.
      delta: started === undefined ? 0 : Math.max(1, now - started),
      freshUntil: now + this.lifetime(row, now),
      body: encodeBody(row),
    };
  }

  /** Physical lifetime in L2: freshness plus grace, so stale-if-error can still find the entry. */
  physicalTtl(entry: DocumentEntry): number {
    return Math.max(1, entry.freshUntil - this.clock.now()) + this.graceMs;
  }

  /** A fetch that began longer ago than half a tombstone's life might predate a delete whose tombstone is gone. */
  fillIsTooOld(started: number): boolean {
    return this.clock.now() - started > this.tombstoneTtlMs / 2;
  }
}

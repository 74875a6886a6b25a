import type { CacheSpec } from "../../spec/document-spec.js";

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

import type { LeaseState } from "./entry-lease.js";
import type { EntryWrite, StoredEntry } from "./key-value-store.js";

/**
 * Fill leases on the cache API's entries (`getOrSet` with `lease`), the key/value twin of entry-lease.ts: on a miss
 * one atomic step returns the live entry or hands the reader a lease on the key, so across every process only the
 * holder runs the loader and fills. A lease always expires (PX) and lives in its own key (key-layout.ts
 * kvLeasePrefix), outside the tracked prefix.
 *
 * Every write of the key through the store (`write`, `add`, `remove`, `pull`) drops its lease in the same atomic
 * step, whoever writes and whether or not that process leases: the holder's fill then finds its token gone and is
 * refused ("lost"), so a value loaded before a `set` or `delete` never overwrites it.
 */
export interface KeyValueLeases {
  /**
   * Per key, in order: its live entry (a stale one too: grace data) and the lease state — `"fresh"` (live and
   * fresh at `now`, no lease taken), `"granted"` (the lease is now `tokens[i]`'s, lasting `leaseMs`), `"held"`
   * (another token holds it) or `"absent"` (a holder's loader just returned nothing: markAbsent). One round trip.
   */
  readOrLease(
    keys: ReadonlyArray<string>,
    tokens: ReadonlyArray<string>,
    leaseMs: number,
    now: number,
  ): Promise<KvLeaseRead[]>;
  /** The holder's fill: written (as `write` would) only while `token` holds the key's lease, which it drops. */
  fill(entry: EntryWrite, token: string): Promise<"stored" | "lost">;
  /** Pushes the lease's expiry to `leaseMs` from now if `token` still holds it; false when it does not. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Drops the lease `token` holds on `key` (a holder that will not fill: the loader failed). */
  release(key: string, token: string): Promise<void>;
  /** Turns the lease `token` holds into the absent marker for `leaseMs` (the loader returned nothing to cache). */
  markAbsent(key: string, token: string, leaseMs: number): Promise<void>;
  /** Takes the lease only if nobody holds it (early refresh: whoever loses keeps serving the entry). */
  tryLease(key: string, token: string, leaseMs: number): Promise<boolean>;
}

/** What readOrLease found for one key. */
export interface KvLeaseRead {
  readonly entry: StoredEntry | undefined;
  readonly state: LeaseState;
}

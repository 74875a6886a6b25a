import type { DocumentEntryStore, EntryPut, EntryRead, PutResult } from "../document-entry.js";
import { decodeEntry } from "../entry-envelope.js";
import { ABSENT_MARKER, type EntryLeases, type LeasedPutResult, type LeaseRead } from "../entry-lease.js";
import { idKey } from "../key-layout.js";
import type { MemoryKeyspace } from "./memory-cache-backend.js";

/**
 * Fill leases in the in-process backend, with lease-script.ts' semantics. Each method does its check-and-set
 * before its first `await`, so it is atomic like the Lua scripts (the fenced put of `entries` runs synchronously
 * too; only its result is awaited).
 */
export class MemoryEntryLeases implements EntryLeases {
  constructor(
    private readonly keyspace: MemoryKeyspace,
    private readonly entries: DocumentEntryStore,
    private readonly prefix: string,
    private readonly clockPrefix: string,
    private readonly leasePrefix: string,
    private readonly fingerprint: string,
  ) {}

  async readOrLease(
    ids: ReadonlyArray<string>,
    tokens: string | ReadonlyArray<string>,
    leaseMs: number,
    now: number,
    slideMs = 0,
  ): Promise<LeaseRead[]> {
    return ids.map((id, i) => {
      const token = typeof tokens === "string" ? tokens : tokens[i]!;
      const read = this.#read(id, slideMs);
      if (typeof read !== "string" && read.freshUntil > now) return { read, state: "fresh" };
      const holder = this.#holder(id);
      if (holder === ABSENT_MARKER) return { read, state: "absent" };
      if (holder !== undefined) return { read, state: "held" };
      this.keyspace.set(idKey(this.leasePrefix, id), token, Math.max(1, Math.ceil(leaseMs)));
      return { read, state: "granted" };
    });
  }

  async fill(items: ReadonlyArray<EntryPut>, token: string, slideMs = 0): Promise<LeasedPutResult[]> {
    const puts: Array<Promise<PutResult> | "lost"> = items.map(({ id, entry, ttlMs }) => {
      if (this.#holder(id) !== token) return "lost";
      const put = this.entries.put(id, entry, ttlMs, slideMs);
      this.keyspace.delete(idKey(this.leasePrefix, id));
      return put;
    });
    return Promise.all(puts);
  }

  async renew(id: string, token: string, leaseMs: number): Promise<boolean> {
    if (this.#holder(id) !== token) return false;
    this.keyspace.expire(idKey(this.leasePrefix, id), Math.max(1, Math.ceil(leaseMs)));
    return true;
  }

  async release(ids: ReadonlyArray<string>, token: string): Promise<void> {
    for (const id of ids) if (this.#holder(id) === token) this.keyspace.delete(idKey(this.leasePrefix, id));
  }

  async markAbsent(ids: ReadonlyArray<string>, token: string, leaseMs: number): Promise<void> {
    for (const id of ids) {
      if (this.#holder(id) === token) {
        this.keyspace.set(idKey(this.leasePrefix, id), ABSENT_MARKER, Math.max(1, Math.ceil(leaseMs)));
      }
    }
  }

  async tryLease(ids: ReadonlyArray<string>, token: string, leaseMs: number): Promise<boolean[]> {
    return ids.map((id) => {
      if (this.#holder(id) !== undefined) return false;
      this.keyspace.set(idKey(this.leasePrefix, id), token, Math.max(1, Math.ceil(leaseMs)));
      return true;
    });
  }

  async voidLease(id: string): Promise<void> {
    this.keyspace.delete(idKey(this.leasePrefix, id));
  }

  /** The token holding `id`'s lease; a lease without expiry (planted) is dropped, as in the scripts. */
  #holder(id: string): string | undefined {
    const key = idKey(this.leasePrefix, id);
    const raw = this.keyspace.get(key);
    if (raw === undefined) return undefined;
    if (typeof raw !== "string" || this.keyspace.pttl(key) === -1) {
      this.keyspace.delete(key);
      return undefined;
    }
    return raw;
  }

  /** As MemoryEntryStore's read (and SLIDING_READ_LUA): an idle-expired entry is a miss; a read restarts the clock. */
  #read(id: string, slideMs: number): EntryRead {
    const raw = this.keyspace.get(idKey(this.prefix, id));
    if (raw === undefined) return "miss";
    if (slideMs > 0) {
      const clock = idKey(this.clockPrefix, id);
      if (this.keyspace.get(clock) === undefined) return "miss";
      this.keyspace.set(clock, "1", slideMs);
    }
    return decodeEntry(this.fingerprint, typeof raw === "string" ? raw : raw.toString("utf8"));
  }
}

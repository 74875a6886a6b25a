import { ABSENT_MARKER } from "../entry-lease.js";
import type { KeyValueLeases, KvLeaseRead } from "../key-value-lease.js";
import type { EntryWrite, KeyValueStore, StoredEntry } from "../key-value-store.js";
import { nextCount } from "../kv-counter.js";
import { encodeKvEnvelope, type KvEnvelope, parseKvEnvelope } from "../kv-envelope.js";
import type { MemoryKeyspace } from "./memory-cache-backend.js";

/**
 * The cache API's entries in the in-process keyspace: every primitive runs synchronously, hence atomically, with
 * the same bytes and decisions as the Redis scripts (so the contract suite holds both to one behaviour), fill
 * leases included (`leases`: each method decides before its first await, so it is atomic like a script).
 */
export class MemoryKeyValueStore implements KeyValueStore {
  readonly kind = "memory";
  readonly leases: KeyValueLeases = {
    readOrLease: async (keys, tokens, leaseMs, now) =>
      keys.map((key, i): KvLeaseRead => {
        const entry = this.#live(key);
        if (entry !== undefined && (entry.freshUntil === 0 || entry.freshUntil > now)) return { entry, state: "fresh" };
        const holder = this.#holder(key);
        if (holder === ABSENT_MARKER) return { entry, state: "absent" };
        if (holder !== undefined) return { entry, state: "held" };
        this.keyspace.set(this.leasePrefix + key, tokens[i] as string, Math.max(1, Math.ceil(leaseMs)));
        return { entry, state: "granted" };
      }),
    fill: async (entry, token) => {
      if (this.#holder(entry.key) !== token) return "lost";
      this.#write(entry);
      return "stored";
    },
    renew: async (key, token, leaseMs) => {
      if (this.#holder(key) !== token) return false;
      this.keyspace.expire(this.leasePrefix + key, Math.max(1, Math.ceil(leaseMs)));
      return true;
    },
    release: async (key, token) => {
      if (this.#holder(key) === token) this.keyspace.delete(this.leasePrefix + key);
    },
    markAbsent: async (key, token, leaseMs) => {
      if (this.#holder(key) === token) {
        this.keyspace.set(this.leasePrefix + key, ABSENT_MARKER, Math.max(1, Math.ceil(leaseMs)));
      }
    },
    tryLease: async (key, token, leaseMs) => {
      if (this.#holder(key) !== undefined) return false;
      this.keyspace.set(this.leasePrefix + key, token, Math.max(1, Math.ceil(leaseMs)));
      return true;
    },
  };

  constructor(
    private readonly keyspace: MemoryKeyspace,
    /** `<namespace>:kv:` */
    private readonly prefix: string,
    private readonly generationKey: string,
    private readonly tagPrefix: string,
    /** `<namespace>|kvlease:` (key-layout.ts kvLeasePrefix). */
    private readonly leasePrefix: string,
  ) {}

  async read(keys: ReadonlyArray<string>): Promise<Array<StoredEntry | undefined>> {
    return keys.map((key) => this.#live(key));
  }

  async write(entries: ReadonlyArray<EntryWrite>): Promise<void> {
    for (const entry of entries) this.#write(entry);
  }

  async add(entry: EntryWrite): Promise<boolean> {
    if (this.#live(entry.key) !== undefined) return false;
    this.#write(entry);
    return true;
  }

  async pull(key: string): Promise<StoredEntry | undefined> {
    const live = this.#live(key);
    this.keyspace.delete(this.prefix + key);
    this.keyspace.delete(this.leasePrefix + key);
    return live;
  }

  async remove(keys: ReadonlyArray<string>): Promise<number> {
    let removed = 0;
    for (const key of keys) {
      this.keyspace.delete(this.leasePrefix + key);
      if (this.keyspace.delete(this.prefix + key)) removed++;
    }
    return removed;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key) === undefined) return false;
    this.keyspace.expire(this.prefix + key, ttlMs);
    return true;
  }

  async ttl(key: string): Promise<number | undefined> {
    if (this.#live(key) === undefined) return undefined;
    const pttl = this.keyspace.pttl(this.prefix + key);
    return pttl === -1 ? Number.POSITIVE_INFINITY : pttl;
  }

  async increment(key: string, by: number, ttlMs: number, floor?: number, ceiling?: number): Promise<number> {
    const full = this.prefix + key;
    const live = this.#live(key);
    const n = nextCount(live?.value, by, key, floor, ceiling);
    const bytes = encodeKvEnvelope(this.#generation(), 0, 0, [], Buffer.from(`j${n}`, "latin1"));
    const pttl = live === undefined ? -2 : this.keyspace.pttl(full);
    this.keyspace.set(full, bytes, pttl > 0 ? pttl : pttl === -1 ? Number.POSITIVE_INFINITY : ttlMs);
    return n;
  }

  async invalidateTags(tags: ReadonlyArray<string>): Promise<void> {
    for (const tag of tags) this.#bump(this.tagPrefix + tag);
  }

  async clear(): Promise<void> {
    this.#bump(this.generationKey);
  }

  #write(entry: EntryWrite): void {
    const tags = (entry.tags ?? []).map((tag) => [tag, this.#version(this.tagPrefix + tag)] as const);
    const bytes = encodeKvEnvelope(this.#generation(), entry.freshUntil ?? 0, entry.deltaMs ?? 0, tags, entry.value);
    this.keyspace.set(this.prefix + entry.key, bytes, entry.ttlMs);
    this.keyspace.delete(this.leasePrefix + entry.key);
  }

  /** The token holding `key`'s lease; a lease without expiry (planted) is dropped, as in the scripts. */
  #holder(key: string): string | undefined {
    const full = this.leasePrefix + key;
    const raw = this.keyspace.get(full);
    if (raw === undefined) return undefined;
    if (typeof raw !== "string" || this.keyspace.pttl(full) === -1) {
      this.keyspace.delete(full);
      return undefined;
    }
    return raw;
  }

  #live(key: string): StoredEntry | undefined {
    const raw = this.keyspace.get(this.prefix + key);
    if (raw === undefined || typeof raw === "string") return undefined;
    const entry = parseKvEnvelope(raw);
    return entry !== undefined && this.#isLive(entry) ? entry : undefined;
  }

  #isLive(entry: KvEnvelope): boolean {
    if (entry.generation !== this.#generation()) return false;
    for (const [tag, version] of entry.tags) if (this.#version(this.tagPrefix + tag) !== version) return false;
    return true;
  }

  #generation(): number {
    return this.#version(this.generationKey);
  }

  #version(key: string): number {
    const raw = this.keyspace.getPinned(key);
    return raw === undefined ? 0 : Number(raw);
  }

  /** Versions never expire nor get evicted: one that came back to 0 would revive what it invalidated. */
  #bump(key: string): void {
    this.keyspace.setPinned(key, String(this.#version(key) + 1));
  }
}

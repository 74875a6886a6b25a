import { checkNamespace } from "../../kernel/check-options.js";
import type { Clock } from "../../kernel/clock.js";
import { parseDuration } from "../../kernel/duration.js";
import type { SealingConfig } from "../../sealing/value-sealer.js";
import { ValueSealer } from "../../sealing/value-sealer.js";
import type { Tenancy } from "../../tenancy/tenancy-options.js";
import type { CacheBackend, CacheNamespace } from "../cache-backend.js";
import type { CachePort, CacheSetOptions, CacheValue } from "../cache-port.js";
import { decodeCacheValue } from "../cache-value-codec.js";
import type { DocumentEntry, DocumentEntryStore, EntryPut, EntryRead, PutResult } from "../document-entry.js";
import { TOMBSTONE_REV } from "../document-entry.js";
import {
  decodeEntry,
  decodeFloor,
  encodeEntry,
  encodeFloor,
  encodeTombstone,
  envelopeVersion,
} from "../entry-envelope.js";
import type { EntryLeases } from "../entry-lease.js";
import {
  entryPrefix,
  idKey,
  idleClockPrefix,
  kvGenerationKey,
  kvLeasePrefix,
  kvPrefix,
  kvTagPrefix,
  leasePrefix,
  versionFloorPrefix,
} from "../key-layout.js";
import type { KeyValueStore } from "../key-value-store.js";
import {
  checkKvKey,
  checkKvKeys,
  checkSetOptions,
  DEFAULT_MAX_VALUE_BYTES,
  encodeKvEntries,
  encodeKvValue,
} from "../kv-input.js";
import { TaggedCacheNamespace } from "../tagged-namespace.js";
import { supersedes } from "../version-order.js";
import { MemoryEntryLeases } from "./memory-entry-leases.js";
import { MemoryKeyValueStore } from "./memory-key-value-store.js";

/** A memory route's sealing and tenancy (see MemoryCacheOptions). */
export interface MemoryRouteExtras {
  readonly sealing?: SealingConfig | undefined;
  readonly tenancy?: Tenancy | undefined;
}

/**
 * An in-process L2 with Redis' semantics for what stratacache uses: per-key expiry, the same envelope bytes and
 * the same set-if-newer fence (run synchronously, hence atomically). For one process, tests, and the embedded
 * default. Values are stored encoded, as Redis would hold them, so a hit decodes exactly like a Redis hit.
 */
export class MemoryCacheBackend implements CacheBackend {
  readonly kind = "memory";
  readonly names: ReadonlyArray<string>;
  readonly #keyspace: MemoryKeyspace;
  readonly #namespaces = new Map<string, MemoryNamespace>();

  /** `maxValueBytes`: per route name, the key/value size limit (default DEFAULT_MAX_VALUE_BYTES). */
  constructor(
    routes: ReadonlyMap<string, string>,
    clock: Clock,
    maxEntries: number,
    maxValueBytes: ReadonlyMap<string, number> = new Map(),
    extras: ReadonlyMap<string, MemoryRouteExtras> = new Map(),
  ) {
    this.names = [...routes.keys()];
    this.#keyspace = new MemoryKeyspace(clock, maxEntries);
    for (const [name, namespace] of routes) {
      const limit = maxValueBytes.get(name) ?? DEFAULT_MAX_VALUE_BYTES;
      const extra = extras.get(name);
      const sealer = extra?.sealing === undefined ? undefined : new ValueSealer(extra.sealing, limit);
      this.#namespaces.set(name, new MemoryNamespace(name, namespace, this.#keyspace, limit, sealer, extra?.tenancy));
    }
  }

  namespace(name: string): CacheNamespace | undefined {
    return this.#namespaces.get(name);
  }

  /** The raw keyspace, for tests that plant corrupt bytes. */
  get keyspace(): MemoryKeyspace {
    return this.#keyspace;
  }

  async close(): Promise<void> {
    this.#keyspace.clear();
  }
}

/** A Map with lazy per-key expiry and a size bound (oldest-written key evicted first). */
export class MemoryKeyspace {
  readonly #data = new Map<string, { value: string | Buffer; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries: number,
  ) {}

  get(key: string): string | Buffer | undefined {
    const slot = this.#data.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.clock.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return slot.value;
  }

  /** Remaining lifetime like Redis' PTTL: -2 absent, -1 no expiry (only keys planted with an infinite ttl). */
  pttl(key: string): number {
    if (this.get(key) === undefined) return -2;
    const expiresAt = this.#data.get(key)?.expiresAt ?? 0;
    return Number.isFinite(expiresAt) ? Math.ceil(expiresAt - this.clock.now()) : -1;
  }

  /** Like PEXPIRE: a new lifetime for a live key, keeping its value and its place in write order. */
  expire(key: string, ttlMs: number): void {
    const slot = this.get(key) === undefined ? undefined : this.#data.get(key);
    if (slot) slot.expiresAt = this.clock.now() + ttlMs;
  }

  /** `ttlMs` may be Infinity: no expiry, which the library never writes (tests plant such keys). */
  set(key: string, value: string | Buffer, ttlMs: number): void {
    this.#data.delete(key); // re-insert at the end: Map order is write order
    this.#data.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    if (this.#data.size > this.maxEntries) {
      const oldest = this.#data.keys().next();
      if (!oldest.done) this.#data.delete(oldest.value);
    }
  }

  delete(key: string): boolean {
    return this.get(key) !== undefined && this.#data.delete(key);
  }

  clear(): void {
    this.#data.clear();
    this.#pinned.clear();
  }

  /** Values outside the size bound (generations, tag versions): evicting one would revive what it invalidated. */
  readonly #pinned = new Map<string, string>();

  getPinned(key: string): string | undefined {
    return this.#pinned.get(key);
  }

  setPinned(key: string, value: string): void {
    this.#pinned.set(key, value);
  }

  /** Deletes every key that starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): number {
    let removed = 0;
    for (const key of [...this.#data.keys()]) {
      if (key.startsWith(prefix) && this.delete(key)) removed++;
    }
    return removed;
  }
}

class MemoryNamespace implements CacheNamespace {
  readonly #entries = new Map<string, MemoryEntryStore>();
  readonly #tenants = new Map<string, CacheNamespace>();
  #keyValues: KeyValueStore | undefined;

  constructor(
    readonly name: string,
    readonly namespace: string,
    private readonly keyspace: MemoryKeyspace,
    readonly maxValueBytes: number,
    readonly sealer: ValueSealer | undefined,
    private readonly tenancy: Tenancy | undefined,
    readonly base?: MemoryNamespace,
    readonly tenant?: string,
  ) {}

  kv(defaultTtlMs: number, tenant?: string): CachePort {
    return new MemoryKvStore(this.keyspace, kvPrefix(this.namespace, tenant), defaultTtlMs, this.maxValueBytes);
  }

  forTenant(tenant: string): CacheNamespace {
    let place = this.#tenants.get(tenant);
    if (place === undefined) {
      if (this.tenancy?.tier === "namespace") {
        const path = `memoryCacheModule.caches.${this.name}.tenancy.namespace("${tenant}")`;
        const namespace = checkNamespace(this.tenancy.resolve(tenant), path);
        place = new MemoryNamespace(
          this.name,
          namespace,
          this.keyspace,
          this.maxValueBytes,
          this.sealer,
          undefined,
          this,
          tenant,
        );
      } else {
        place = new TaggedCacheNamespace(this, tenant);
      }
      this.#tenants.set(tenant, place);
    }
    return place;
  }

  keyValues(tenant?: string): KeyValueStore {
    const make = () =>
      new MemoryKeyValueStore(
        this.keyspace,
        kvPrefix(this.namespace, tenant),
        kvGenerationKey(this.namespace, tenant),
        kvTagPrefix(this.namespace, tenant),
        kvLeasePrefix(this.namespace, tenant),
      );
    if (tenant !== undefined) return make(); // a tagged tenant's own keys, generation and tags
    this.#keyValues ??= make();
    return this.#keyValues;
  }

  entries(fingerprint: string, maxTtlMs = 0): DocumentEntryStore {
    const slot = `${fingerprint}|${maxTtlMs}`;
    let store = this.#entries.get(slot);
    if (!store) {
      store = new MemoryEntryStore(
        this.keyspace,
        this.entryPrefix(fingerprint),
        idleClockPrefix(this.namespace, fingerprint),
        versionFloorPrefix(this.namespace, fingerprint),
        fingerprint,
        maxTtlMs,
      );
      this.#entries.set(slot, store);
    }
    return store;
  }

  leases(fingerprint: string, maxTtlMs = 0): EntryLeases {
    return new MemoryEntryLeases(
      this.keyspace,
      this.entries(fingerprint, maxTtlMs),
      this.entryPrefix(fingerprint),
      idleClockPrefix(this.namespace, fingerprint),
      leasePrefix(this.namespace, fingerprint),
      fingerprint,
    );
  }

  entryPrefix(fingerprint: string): string {
    return entryPrefix(this.namespace, fingerprint);
  }
}

class MemoryEntryStore implements DocumentEntryStore {
  readonly inProcess = true;

  constructor(
    private readonly keyspace: MemoryKeyspace,
    private readonly prefix: string,
    private readonly clockPrefix: string,
    private readonly floorPrefix: string,
    private readonly fingerprint: string,
    private readonly maxTtlMs: number,
  ) {}

  async read(id: string, slideMs = 0): Promise<EntryRead> {
    return this.#read(id, slideMs);
  }

  async readMany(ids: ReadonlyArray<string>, slideMs = 0): Promise<EntryRead[]> {
    return ids.map((id) => this.#read(id, slideMs));
  }

  async put(id: string, entry: DocumentEntry, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const envelope = encodeEntry(this.fingerprint, entry);
    return this.#put(id, entry.incarnation, entry.rev, entry.freshUntil, envelope, ttlMs, slideMs, false);
  }

  async writeThrough(id: string, entry: DocumentEntry, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const envelope = encodeEntry(this.fingerprint, entry);
    return this.#put(id, entry.incarnation, entry.rev, entry.freshUntil, envelope, ttlMs, slideMs, true);
  }

  async putMany(items: ReadonlyArray<EntryPut>, slideMs = 0): Promise<PutResult[]> {
    return items.map(({ id, entry, ttlMs }) =>
      this.#put(
        id,
        entry.incarnation,
        entry.rev,
        entry.freshUntil,
        encodeEntry(this.fingerprint, entry),
        ttlMs,
        slideMs,
        false,
      ),
    );
  }

  async clear(id: string, incarnation: number, rev: number, ttlMs: number, slideMs = 0): Promise<PutResult> {
    return this.#put(id, incarnation, rev, 0, "", ttlMs, slideMs, true);
  }

  async tombstone(id: string, incarnation: number, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const envelope = encodeTombstone(this.fingerprint, incarnation, Date.now());
    return this.#put(id, incarnation, TOMBSTONE_REV, 0, envelope, ttlMs, slideMs, true);
  }

  async clearAll(): Promise<number> {
    return this.keyspace.deletePrefix(this.prefix);
  }

  /** Same semantics as SLIDING_READ_LUA: an entry whose idle clock ran out is a miss; a read restarts the clock. */
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

  /** The same decision as the Lua fence (fence-script.ts), step by step. */
  #put(
    id: string,
    incarnation: number,
    rev: number,
    freshUntil: number,
    envelope: string,
    ttlMs: number,
    slideMs: number,
    raiseFloor: boolean,
  ): PutResult {
    const key = idKey(this.prefix, id);
    const floorKey = idKey(this.floorPrefix, id);
    const next = { incarnation, rev, freshUntil };
    const floorRaw = this.keyspace.get(floorKey);
    if (floorRaw !== undefined) {
      const floor = decodeFloor(text(floorRaw));
      // Its TTL matters only when it would keep the put out (as in the script).
      if (floor === undefined) this.keyspace.delete(floorKey);
      else if (supersedes(floor, next) && this.#ttlClass(floorKey) < 0) this.keyspace.delete(floorKey);
      else if (supersedes(floor, next)) {
        // Rejected by the floor: the entry is not examined, but it may not outlive the bound either.
        const pttl = this.keyspace.pttl(key);
        if (this.maxTtlMs > 0 && (pttl === -1 || pttl > this.maxTtlMs)) this.keyspace.expire(key, this.maxTtlMs);
        return "rejected";
      }
    }
    const raw = this.keyspace.get(key);
    if (raw !== undefined) {
      const current = envelopeVersion(this.fingerprint, text(raw));
      // Its TTL is looked at only when it would keep the put out (as in the script; a superseded entry is replaced).
      if (current !== undefined && supersedes(current, next)) {
        const cut = this.#ttlClass(key);
        // Freshness breaks a tie only for an entry of ours: an over-long one may be replaced by the same version.
        if (cut === 0 || (cut > 0 && supersedes({ incarnation: current.incarnation, rev: current.rev }, next))) {
          return "rejected";
        }
      }
    }
    const ttl = Math.max(1, Math.ceil(ttlMs));
    // An empty envelope clears (see DocumentEntryStore.clear).
    if (envelope === "") this.keyspace.delete(key);
    else this.keyspace.set(key, envelope, ttl);
    if (raiseFloor) this.keyspace.set(floorKey, encodeFloor(incarnation, rev), ttl);
    if (slideMs > 0) {
      const clock = idKey(this.clockPrefix, id);
      if (rev === TOMBSTONE_REV || envelope === "") this.keyspace.delete(clock);
      else this.keyspace.set(clock, "1", slideMs);
    }
    return "stored";
  }

  /** -1: no expiry (foreign); 1: longer than this document ever writes (cut down to it); 0: ours. */
  #ttlClass(key: string): -1 | 0 | 1 {
    const pttl = this.keyspace.pttl(key);
    if (pttl === -1) return -1;
    if (this.maxTtlMs > 0 && pttl > this.maxTtlMs) {
      this.keyspace.expire(key, this.maxTtlMs);
      return 1;
    }
    return 0;
  }
}

function text(raw: string | Buffer): string {
  return typeof raw === "string" ? raw : raw.toString("utf8");
}

class MemoryKvStore implements CachePort {
  constructor(
    private readonly keyspace: MemoryKeyspace,
    private readonly prefix: string,
    private readonly defaultTtlMs: number,
    private readonly maxValueBytes: number,
  ) {}

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    return this.#get(key) as T | undefined;
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    return checkKvKeys(keys).map((key) => this.#get(key) as T | undefined);
  }

  async exists(key: string): Promise<boolean> {
    return this.keyspace.get(this.prefix + checkKvKey(key)) !== undefined;
  }

  async set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void> {
    const full = this.prefix + checkKvKey(key);
    this.keyspace.set(full, encodeKvValue(value, this.maxValueBytes), this.#ttl(options));
  }

  async setMany(
    entries: ReadonlyArray<readonly [key: string, value: CacheValue]>,
    options?: CacheSetOptions,
  ): Promise<void> {
    const ttl = this.#ttl(options);
    const encoded = encodeKvEntries(entries, (key) => this.prefix + key, this.maxValueBytes);
    for (const [key, bytes] of encoded) this.keyspace.set(key, bytes, ttl);
  }

  async delete(key: string): Promise<boolean> {
    return this.keyspace.delete(this.prefix + checkKvKey(key));
  }

  async deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    let removed = 0;
    for (const key of checkKvKeys(keys)) if (this.keyspace.delete(this.prefix + key)) removed++;
    return removed;
  }

  #get(key: string): unknown {
    const raw = this.keyspace.get(this.prefix + checkKvKey(key));
    return raw === undefined || typeof raw === "string" ? undefined : decodeCacheValue(raw);
  }

  #ttl(options: CacheSetOptions | undefined): number {
    const ttl = checkSetOptions(options)?.ttl;
    return ttl === undefined ? this.defaultTtlMs : parseDuration(ttl, "ttl");
  }
}

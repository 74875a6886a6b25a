import type { CacheBackend, CacheNamespace } from "../cache-backend.js";
import type { CachePort, CacheValue } from "../cache-port.js";
import type { DocumentEntryStore, EntryPut, EntryRead, PutResult } from "../document-entry.js";
import type { EntryWrite, KeyValueStore, StoredEntry } from "../key-value-store.js";
import { nextCount } from "../kv-counter.js";
import { checkKvEntries, checkKvKey, checkKvKeys, checkSetOptions, encodeKvValue } from "../kv-input.js";

/**
 * The null backend, for tests and for switching caching off by configuration (`STRATA_CACHE_<NAME>_DRIVER=null`):
 * every read misses, every write succeeds and is dropped. Input is still checked, so a test against it still sees
 * bad keys and values refused. Documents routed to it read from Postgres every time.
 */
export class NullCacheBackend implements CacheBackend {
  readonly kind = "null";
  readonly names: ReadonlyArray<string>;
  readonly #namespaces = new Map<string, NullNamespace>();

  constructor(routes: ReadonlyMap<string, string>, maxValueBytes: number) {
    this.names = [...routes.keys()];
    for (const [name, namespace] of routes)
      this.#namespaces.set(name, new NullNamespace(name, namespace, maxValueBytes));
  }

  namespace(name: string): CacheNamespace | undefined {
    return this.#namespaces.get(name);
  }

  async close(): Promise<void> {}
}

class NullNamespace implements CacheNamespace {
  readonly #store = new NullKeyValueStore();

  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly maxValueBytes: number,
  ) {}

  kv(): CachePort {
    return new NullCachePort(this.maxValueBytes);
  }

  keyValues(): KeyValueStore {
    return this.#store;
  }

  entries(): DocumentEntryStore {
    return NULL_ENTRIES;
  }

  entryPrefix(fingerprint: string): string {
    return `${this.namespace}:${fingerprint}:d:`;
  }
}

/** Every read misses; every write "succeeds"; a counter answers as if it had just been created. */
export class NullKeyValueStore implements KeyValueStore {
  readonly kind = "null";

  async read(keys: ReadonlyArray<string>): Promise<Array<StoredEntry | undefined>> {
    return keys.map(() => undefined);
  }

  async write(_entries: ReadonlyArray<EntryWrite>): Promise<void> {}

  async add(_entry: EntryWrite): Promise<boolean> {
    return true;
  }

  async pull(_key: string): Promise<StoredEntry | undefined> {
    return undefined;
  }

  async remove(_keys: ReadonlyArray<string>): Promise<number> {
    return 0;
  }

  async expire(_key: string, _ttlMs: number): Promise<boolean> {
    return false;
  }

  async ttl(_key: string): Promise<number | undefined> {
    return undefined;
  }

  async increment(key: string, by: number, _ttlMs: number, floor?: number, ceiling?: number): Promise<number> {
    return nextCount(undefined, by, key, floor, ceiling);
  }

  async invalidateTags(_tags: ReadonlyArray<string>): Promise<void> {}

  async clear(): Promise<void> {}
}

class NullCachePort implements CachePort {
  constructor(private readonly maxValueBytes: number) {}

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    checkKvKey(key);
    return undefined;
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    return checkKvKeys(keys).map(() => undefined);
  }

  async exists(key: string): Promise<boolean> {
    checkKvKey(key);
    return false;
  }

  async set(key: string, value: CacheValue, options?: { ttl?: number | string }): Promise<void> {
    checkKvKey(key);
    checkSetOptions(options);
    encodeKvValue(value, this.maxValueBytes);
  }

  async setMany(entries: ReadonlyArray<readonly [string, CacheValue]>): Promise<void> {
    for (const [, value] of checkKvEntries(entries)) encodeKvValue(value, this.maxValueBytes);
  }

  async delete(key: string): Promise<boolean> {
    checkKvKey(key);
    return false;
  }

  async deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    checkKvKeys(keys);
    return 0;
  }
}

const stored = async (): Promise<PutResult> => "stored";

const NULL_ENTRIES: DocumentEntryStore = {
  inProcess: true,
  read: async (): Promise<EntryRead> => "miss",
  readMany: async (ids: ReadonlyArray<string>): Promise<EntryRead[]> => ids.map(() => "miss"),
  put: stored,
  writeThrough: stored,
  putMany: async (items: ReadonlyArray<EntryPut>): Promise<PutResult[]> => items.map(() => "stored"),
  clear: stored,
  tombstone: stored,
};

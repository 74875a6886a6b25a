import type { ValueSealer } from "../sealing/value-sealer.js";
import type { KeyValueLeases } from "./key-value-lease.js";
import type { EntryWrite, KeyValueStore, StoredEntry } from "./key-value-store.js";

/**
 * The value transform of the cache API's store on a sealing route: a decorator over any KeyValueStore that seals the
 * value codec's bytes on write (`write`, `add`) and opens them on read (`read`, `pull`). The associated data binds a
 * value to `place` (namespace and tenant) and its key, so bytes copied to another key, tenant or namespace fail
 * authentication: a miss, counted in the route's sealing stats, never returned. Counters (`increment`) stay in clear:
 * the server adds to them atomically, which it cannot do under a seal.
 */
export class SealedKeyValueStore implements KeyValueStore {
  readonly kind: string;
  /** The inner store's leases, with values opened on read and sealed on fill. */
  readonly leases?: KeyValueLeases;

  constructor(
    private readonly inner: KeyValueStore,
    private readonly sealer: ValueSealer,
    /** Where the values live, e.g. `k|<namespace>|<tenant>`. */
    private readonly place: string,
  ) {
    this.kind = inner.kind;
    const leases = inner.leases;
    if (leases !== undefined) {
      this.leases = {
        readOrLease: async (keys, tokens, leaseMs, now) =>
          (await leases.readOrLease(keys, tokens, leaseMs, now)).map((read, i) => ({
            entry: this.#open(keys[i] as string, read.entry),
            state: read.state,
          })),
        fill: (entry, token) => leases.fill(this.#seal(entry), token),
        renew: (key, token, leaseMs) => leases.renew(key, token, leaseMs),
        release: (key, token) => leases.release(key, token),
        markAbsent: (key, token, leaseMs) => leases.markAbsent(key, token, leaseMs),
        tryLease: (key, token, leaseMs) => leases.tryLease(key, token, leaseMs),
      };
    }
  }

  async read(keys: ReadonlyArray<string>): Promise<Array<StoredEntry | undefined>> {
    const entries = await this.inner.read(keys);
    return entries.map((entry, i) => this.#open(keys[i] as string, entry));
  }

  write(entries: ReadonlyArray<EntryWrite>): Promise<void> {
    return this.inner.write(entries.map((entry) => this.#seal(entry)));
  }

  add(entry: EntryWrite): Promise<boolean> {
    return this.inner.add(this.#seal(entry));
  }

  async pull(key: string): Promise<StoredEntry | undefined> {
    return this.#open(key, await this.inner.pull(key));
  }

  remove(keys: ReadonlyArray<string>): Promise<number> {
    return this.inner.remove(keys);
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.inner.expire(key, ttlMs);
  }

  ttl(key: string): Promise<number | undefined> {
    return this.inner.ttl(key);
  }

  increment(key: string, by: number, ttlMs: number, floor?: number, ceiling?: number): Promise<number> {
    return this.inner.increment(key, by, ttlMs, floor, ceiling);
  }

  invalidateTags(tags: ReadonlyArray<string>): Promise<void> {
    return this.inner.invalidateTags(tags);
  }

  clear(): Promise<void> {
    return this.inner.clear();
  }

  #seal(entry: EntryWrite): EntryWrite {
    return { ...entry, value: this.sealer.seal(entry.value, this.#aad(entry.key)) };
  }

  #open(key: string, entry: StoredEntry | undefined): StoredEntry | undefined {
    if (entry === undefined) return undefined;
    const value = this.sealer.open(entry.value, this.#aad(key));
    return typeof value === "string" ? undefined : { ...entry, value };
  }

  #aad(key: string): Buffer {
    return Buffer.from(`${this.place}|${key}`, "utf8");
  }
}

import type { ValueSealer } from "../sealing/value-sealer.js";
import type { CachePort, CacheSetOptions, CacheValue } from "./cache-port.js";
import { decodeCacheValue } from "./cache-value-codec.js";
import { checkKvEntries, encodeKvValue } from "./kv-input.js";

/**
 * The key/value port of a sealing route: each value goes through the kv codec (and its `maxValueBytes` check, on
 * the plain bytes), then is sealed and stored as raw bytes by the inner port; reads open and decode. The associated
 * data binds a value to `place` (namespace and tenant) and its key, so bytes copied to another key, tenant or
 * namespace fail authentication: a miss (`undefined`), counted, never returned.
 */
export class SealedCachePort implements CachePort {
  constructor(
    private readonly inner: CachePort,
    private readonly sealer: ValueSealer,
    /** Where the values live, e.g. `k|<namespace>|<tenant>`. */
    private readonly place: string,
    private readonly maxValueBytes: number,
  ) {}

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    return this.#open(key, await this.inner.get(key)) as T | undefined;
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    const raws = await this.inner.getMany(keys);
    return raws.map((raw, i) => this.#open(keys[i] as string, raw) as T | undefined);
  }

  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }

  set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void> {
    return this.inner.set(key, this.#seal(key, encodeKvValue(value, this.maxValueBytes)), options);
  }

  setMany(entries: ReadonlyArray<readonly [key: string, value: CacheValue]>, options?: CacheSetOptions): Promise<void> {
    // Everything is encoded and sealed before the inner port writes anything: one bad value refuses the batch.
    const sealed = checkKvEntries(entries).map(
      ([key, value], i) => [key, this.#seal(key, encodeKvValue(value, this.maxValueBytes, i))] as const,
    );
    return this.inner.setMany(sealed, options);
  }

  delete(key: string): Promise<boolean> {
    return this.inner.delete(key);
  }

  deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    return this.inner.deleteMany(keys);
  }

  #seal(key: string, encoded: Buffer): Uint8Array {
    return this.sealer.seal(encoded, this.#aad(key));
  }

  #open(key: string, raw: unknown): unknown {
    if (raw === undefined) return undefined;
    if (!(raw instanceof Uint8Array)) {
      // A JSON value another writer stored in clear: kept only where this route does not encrypt.
      if (!this.sealer.encrypts) return raw;
      this.sealer.counters.authFailed++;
      return undefined;
    }
    const plain = this.sealer.open(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), this.#aad(key));
    return typeof plain === "string" ? undefined : decodeCacheValue(plain);
  }

  #aad(key: string): Buffer {
    return Buffer.from(`${this.place}|${key}`, "utf8");
  }
}

import type { Cluster, Redis } from "ioredis";
import { parseDuration } from "../../kernel/duration.js";
import type { CachePort, CacheSetOptions, CacheValue } from "../cache-port.js";
import { decodeCacheValue } from "../cache-value-codec.js";
import {
  checkKvKey,
  checkKvKeys,
  checkSetOptions,
  DEFAULT_MAX_VALUE_BYTES,
  encodeKvEntries,
  encodeKvValue,
} from "../kv-input.js";
import { groupBySlot } from "./hash-slot.js";
import { CommandDeadline } from "./redis-commands.js";
import { unavailable } from "./redis-unavailable.js";
import { missOnWrongType } from "./wrong-type.js";

/** The key/value port over one Redis namespace. Failures reject with StrataError("UNAVAILABLE"). */
export class RedisKvStore implements CachePort {
  readonly #cluster: boolean;
  readonly #deadline: CommandDeadline;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly prefix: string,
    private readonly defaultTtlMs: number,
    timeoutMs: number,
    private readonly maxValueBytes: number = DEFAULT_MAX_VALUE_BYTES,
  ) {
    this.#cluster = client.isCluster;
    this.#deadline = new CommandDeadline(client, timeoutMs);
  }

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    // A key of another type (a hash planted under our prefix) is a miss, as MGET already answers for it.
    const raw = await this.#call(this.client.getBuffer(this.#key(checkKvKey(key))).catch(missOnWrongType), "GET");
    return raw === null ? undefined : (decodeCacheValue(raw) as T | undefined);
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    const full = checkKvKeys(keys).map((key) => this.#key(key));
    const out = new Array<T | undefined>(keys.length);
    await Promise.all(
      groupBySlot(full, this.#cluster).map(async (group) => {
        const raws = await this.#call(this.client.mgetBuffer(group.map((i) => full[i]!)), "MGET");
        group.forEach((index, j) => {
          const raw = raws[j];
          out[index] = raw ? (decodeCacheValue(raw) as T | undefined) : undefined;
        });
      }),
    );
    return out;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.#call(this.client.exists(this.#key(checkKvKey(key))), "EXISTS")) === 1;
  }

  async set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void> {
    const full = this.#key(checkKvKey(key));
    const bytes = encodeKvValue(value, this.maxValueBytes);
    await this.#call(this.client.set(full, bytes, "PX", this.#ttl(options)), "SET");
  }

  async setMany(
    entries: ReadonlyArray<readonly [key: string, value: CacheValue]>,
    options?: CacheSetOptions,
  ): Promise<void> {
    const ttl = this.#ttl(options);
    // Encode everything first: a value that cannot be serialised refuses the whole batch before anything is sent.
    const encoded = encodeKvEntries(entries, (key) => this.#key(key), this.maxValueBytes);
    await Promise.all(
      groupBySlot(
        encoded.map(([key]) => key),
        this.#cluster,
      ).map(async (group) => {
        const pipeline = this.client.multi();
        for (const i of group) pipeline.set(encoded[i]![0], encoded[i]![1], "PX", ttl);
        const replies = await this.#call(pipeline.exec(), "SET (MULTI)");
        for (const reply of replies ?? []) if (reply[0]) throw unavailable("SET (MULTI)", reply[0]);
      }),
    );
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#call(this.client.del(this.#key(checkKvKey(key))), "DEL")) === 1;
  }

  async deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    const full = checkKvKeys(keys).map((key) => this.#key(key));
    const counts = await Promise.all(
      groupBySlot(full, this.#cluster).map((group) =>
        this.#call(this.client.del(...group.map((i) => full[i]!)), "DEL"),
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  #key(key: string): string {
    return this.prefix + key;
  }

  #ttl(options: CacheSetOptions | undefined): number {
    const ttl = checkSetOptions(options)?.ttl;
    return ttl === undefined ? this.defaultTtlMs : parseDuration(ttl, "ttl");
  }

  async #call<T>(promise: Promise<T>, operation: string): Promise<T> {
    try {
      return await this.#deadline.bound(promise, operation);
    } catch (error) {
      throw unavailable(operation, error);
    }
  }
}

import type { Cluster, Redis } from "ioredis";
import type { KeyValueLeases } from "../key-value-lease.js";
import type { EntryWrite, KeyValueStore, StoredEntry } from "../key-value-store.js";
import { counterOverflow, notACounter } from "../kv-counter.js";
import { type KvEnvelope, parseKvEnvelope } from "../kv-envelope.js";
import { groupBySlot } from "./hash-slot.js";
import { KV_INCREMENT_LUA, KV_PULL_LUA, KV_READ_OR_LEASE_LUA, KV_TTL_LUA, KV_WRITE_LUA } from "./kv-scripts.js";
import { CommandDeadline } from "./redis-commands.js";
import { type LeaseClient, withLeaseScripts } from "./redis-entry-leases.js";
import { type KvLeaseHost, RedisKeyValueLeases } from "./redis-key-value-leases.js";
import { unavailable } from "./redis-unavailable.js";

interface KvCommands {
  strataKvWrite(numKeys: number, ...keysThenArgs: Array<string | number | Buffer>): Promise<number>;
  strataKvPullBuffer(key: string, generationKey: string, leaseKey: string, tagPrefix: string): Promise<Buffer | null>;
  strataKvReadOrLeaseBuffer(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<unknown[]>;
  strataKvTtl(key: string, generationKey: string, tagPrefix: string, ttlMs: string): Promise<number>;
  strataKvIncrement(
    key: string,
    generationKey: string,
    tagPrefix: string,
    by: number,
    ttlMs: number,
    floor: string,
    ceiling: string,
  ): Promise<string>;
}
type KvClient = LeaseClient & KvCommands;

function withKvScripts(client: Redis | Cluster): KvClient {
  if (!("strataKvWrite" in client)) {
    client.defineCommand("strataKvWrite", { lua: KV_WRITE_LUA });
    client.defineCommand("strataKvPull", { lua: KV_PULL_LUA, numberOfKeys: 3 });
    client.defineCommand("strataKvReadOrLease", { lua: KV_READ_OR_LEASE_LUA });
    client.defineCommand("strataKvTtl", { lua: KV_TTL_LUA, numberOfKeys: 2 });
    client.defineCommand("strataKvIncrement", { lua: KV_INCREMENT_LUA, numberOfKeys: 2 });
  }
  return withLeaseScripts(client) as KvClient;
}

/**
 * The cache API's entries in one Redis namespace. A read is one MGET of the generation key and the entry keys (a
 * second one, of tag versions, only when an entry carries tags); every write is one script (kv-scripts.ts) so the
 * generation and tag versions it stamps are the ones current at that instant, and drops the key's fill lease
 * (`leases`, redis-key-value-leases.ts) in the same step.
 */
export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = "redis";
  readonly #client: KvClient;
  readonly #cluster: boolean;
  readonly #deadline: CommandDeadline;
  readonly leases: KeyValueLeases;

  constructor(
    client: Redis | Cluster,
    /** `<namespace>:kv:` */
    private readonly prefix: string,
    private readonly generationKey: string,
    private readonly tagPrefix: string,
    timeoutMs: number,
    /** `<namespace>|kvlease:` (key-layout.ts kvLeasePrefix). */
    private readonly leasePrefix: string,
  ) {
    this.#client = withKvScripts(client);
    this.#cluster = client.isCluster;
    this.#deadline = new CommandDeadline(client, timeoutMs);
    const host: KvLeaseHost = {
      client: this.#client,
      generationKey,
      tagPrefix,
      entryKey: (key) => this.prefix + key,
      leaseKey: (key) => this.leasePrefix + key,
      write: (entry, mode, token) => this.#write(entry, mode, token),
      call: (promise, operation) => this.#call(promise, operation),
    };
    this.leases = new RedisKeyValueLeases(host);
  }

  async read(keys: ReadonlyArray<string>): Promise<Array<StoredEntry | undefined>> {
    if (keys.length === 0) return [];
    let generation: number;
    let raws: Array<Buffer | null>;
    if (!this.#cluster) {
      const replies = await this.#call(
        this.#client.mgetBuffer(this.generationKey, ...keys.map((key) => this.prefix + key)),
        "MGET",
      );
      generation = version(replies[0] ?? null);
      raws = replies.slice(1);
    } else {
      const full = keys.map((key) => this.prefix + key);
      raws = new Array<Buffer | null>(keys.length);
      const [gen] = await Promise.all([
        this.#call(this.#client.getBuffer(this.generationKey), "GET"),
        ...groupBySlot(full, true).map(async (group) => {
          const replies = await this.#call(this.#client.mgetBuffer(group.map((i) => full[i]!)), "MGET");
          group.forEach((index, j) => {
            raws[index] = replies[j] ?? null;
          });
        }),
      ]);
      generation = version(gen as Buffer | null);
    }
    const entries = raws.map((raw) => {
      if (raw === null) return undefined;
      const entry = parseKvEnvelope(raw);
      return entry === undefined || entry.generation !== generation ? undefined : entry;
    });
    await this.#checkTags(entries);
    return entries;
  }

  async write(entries: ReadonlyArray<EntryWrite>): Promise<void> {
    await Promise.all(entries.map((entry) => this.#write(entry, "set")));
  }

  async add(entry: EntryWrite): Promise<boolean> {
    return (await this.#write(entry, "add")) === 1;
  }

  async pull(key: string): Promise<StoredEntry | undefined> {
    const raw = await this.#call(
      this.#client.strataKvPullBuffer(this.prefix + key, this.generationKey, this.leasePrefix + key, this.tagPrefix),
      "PULL (script)",
    );
    // The script judged it live; only its header is still to be read.
    return raw === null ? undefined : parseKvEnvelope(raw);
  }

  async remove(keys: ReadonlyArray<string>): Promise<number> {
    const full = keys.map((key) => this.prefix + key);
    const leases = keys.map((key) => this.leasePrefix + key);
    // Leases first, in the same write (one connection keeps the order): a fill loaded before this delete is refused.
    const voided = groupBySlot(leases, this.#cluster).map((group) =>
      this.#call(this.#client.del(...group.map((i) => leases[i]!)), "DEL"),
    );
    const counts = await Promise.all(
      groupBySlot(full, this.#cluster).map((group) =>
        this.#call(this.#client.del(...group.map((i) => full[i]!)), "DEL"),
      ),
    );
    await Promise.all(voided);
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#ttl(key, String(ttlMs))) !== -2;
  }

  async ttl(key: string): Promise<number | undefined> {
    const pttl = await this.#ttl(key, "");
    return pttl === -2 ? undefined : pttl === -1 ? Number.POSITIVE_INFINITY : pttl;
  }

  async increment(key: string, by: number, ttlMs: number, floor?: number, ceiling?: number): Promise<number> {
    try {
      const reply = await this.#call(
        this.#client.strataKvIncrement(
          this.prefix + key,
          this.generationKey,
          this.tagPrefix,
          by,
          ttlMs,
          floor === undefined ? "" : String(floor),
          ceiling === undefined ? "" : String(ceiling),
        ),
        "INCREMENT (script)",
      );
      return Number(reply);
    } catch (error) {
      const message = error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
      if (/\bNOTCOUNTER\b/.test(message)) throw notACounter(key);
      if (/\bOVERFLOW\b/.test(message)) throw counterOverflow(key);
      throw error;
    }
  }

  async invalidateTags(tags: ReadonlyArray<string>): Promise<void> {
    // One INCR per tag (never expiring: a version that came back to 0 would revive what it invalidated).
    await Promise.all(tags.map((tag) => this.#call(this.#client.incr(this.tagPrefix + tag), "INCR")));
  }

  async clear(): Promise<void> {
    await this.#call(this.#client.incr(this.generationKey), "INCR");
  }

  #write(entry: EntryWrite, mode: "set" | "add" | "fill", token = ""): Promise<number> {
    const tags = entry.tags ?? [];
    const keys = [
      this.prefix + entry.key,
      this.generationKey,
      this.leasePrefix + entry.key,
      ...tags.map((tag) => this.tagPrefix + tag),
    ];
    return this.#call(
      this.#client.strataKvWrite(
        keys.length,
        ...keys,
        this.tagPrefix,
        entry.value,
        entry.ttlMs,
        entry.freshUntil ?? 0,
        entry.deltaMs ?? 0,
        mode,
        token,
        ...tags,
      ),
      mode === "add" ? "ADD (script)" : mode === "fill" ? "LEASED FILL (script)" : "SET (script)",
    );
  }

  #ttl(key: string, ttlMs: string): Promise<number> {
    return this.#call(
      this.#client.strataKvTtl(this.prefix + key, this.generationKey, this.tagPrefix, ttlMs),
      "TTL (script)",
    );
  }

  /** Tagged entries: one MGET of the versions of every tag they carry; an entry with a moved tag becomes a miss. */
  async #checkTags(entries: Array<KvEnvelope | undefined>): Promise<void> {
    let tags: Set<string> | undefined;
    for (const entry of entries) {
      if (entry === undefined || entry.tags.length === 0) continue;
      tags ??= new Set();
      for (const [tag] of entry.tags) tags.add(tag);
    }
    if (tags === undefined) return;
    const names = [...tags];
    const full = names.map((tag) => this.tagPrefix + tag);
    const versions = new Map<string, number>();
    await Promise.all(
      groupBySlot(full, this.#cluster).map(async (group) => {
        const replies = await this.#call(this.#client.mgetBuffer(group.map((i) => full[i]!)), "MGET");
        group.forEach((index, j) => {
          versions.set(names[index]!, version(replies[j] ?? null));
        });
      }),
    );
    entries.forEach((entry, i) => {
      if (entry?.tags.some(([tag, v]) => versions.get(tag) !== v)) entries[i] = undefined;
    });
  }

  async #call<T>(promise: Promise<T>, operation: string): Promise<T> {
    try {
      return await this.#deadline.bound(promise, operation);
    } catch (error) {
      throw unavailable(operation, error);
    }
  }
}

function version(raw: Buffer | null): number {
  return raw === null ? 0 : Number(raw.toString("latin1")) || 0;
}

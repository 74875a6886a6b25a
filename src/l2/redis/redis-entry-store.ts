import type { Cluster, Redis } from "ioredis";
import type { DocumentEntry, DocumentEntryStore, EntryPut, EntryRead, PutResult } from "../document-entry.js";
import { decodeEntry, decodeEntryBytes, encodeEntry, encodeTombstone } from "../entry-envelope.js";
import { idKey } from "../key-layout.js";
import { clusterMget } from "./cluster-mget.js";
import { GetBatcher } from "./get-batcher.js";
import { groupBySlot, hashSlot } from "./hash-slot.js";
import type { FencedClient, FencedPutArgs } from "./redis-commands.js";
import { CommandDeadline, fencedPut, withFence } from "./redis-commands.js";
import { corruptOnWrongType } from "./wrong-type.js";

/**
 * Versioned entries of one document in one Redis namespace. Reads are GET/MGET (or one script when sliding);
 * writes go through the Lua fence.
 */
export class RedisEntryStore implements DocumentEntryStore {
  readonly #client: FencedClient;
  readonly #cluster: boolean;
  readonly #deadline: CommandDeadline;
  /** The fingerprint's UTF-8 bytes, for decodeEntryBytes. */
  readonly #fingerprintBytes: Uint8Array;

  constructor(
    client: Redis | Cluster,
    private readonly prefix: string,
    private readonly clockPrefix: string,
    private readonly floorPrefix: string,
    private readonly fingerprint: string,
    timeoutMs: number,
    /** The longest PX this document ever writes (see fence-script.ts); 0 when unknown (no-TTL keys still foreign). */
    private readonly maxTtlMs = 0,
  ) {
    this.#client = withFence(client);
    this.#cluster = client.isCluster;
    this.#deadline = new CommandDeadline(client, timeoutMs);
    this.#fingerprintBytes = Buffer.from(fingerprint);
  }

  key(id: string): string {
    return idKey(this.prefix, id);
  }

  clockKey(id: string): string {
    return idKey(this.clockPrefix, id);
  }

  floorKey(id: string): string {
    return idKey(this.floorPrefix, id);
  }

  read(id: string, slideMs = 0): Promise<EntryRead> {
    if (slideMs > 0) return this.readMany([id], slideMs).then(firstRead);
    // Not async: the batcher decodes in the reaction to the GET, one promise per hit (see GetBatcher).
    return this.#gets.get(this.key(id));
  }

  readonly #getOne = (key: string): Promise<Buffer | null> => this.#bound(this.#client.getBuffer(key), "GET");

  /**
   * An L2 value as an entry read: Redis' bytes decoded in place (decodeEntryBytes), or a string (a Cluster's batch, or
   * the empty string a WRONGTYPE stands for). Bytes for the lone read too: decoding the header from a string reads it
   * with `charCodeAt`, which V8 stops inlining once anything in the process subclasses String (node-redis 5 does; see
   * document-id.ts): 0.35–0.65 µs an entry in a clean process and 0.9–1.8 µs after, against ~0.3 µs from the bytes.
   */
  readonly #decodeRaw = (raw: Buffer | string | null): EntryRead =>
    raw === null
      ? "miss"
      : typeof raw === "string"
        ? decodeEntry(this.fingerprint, raw)
        : decodeEntryBytes(this.#fingerprintBytes, raw);

  /** Single reads of one tick, as one GET (alone) or one MGET per hash slot, decoded. */
  readonly #gets = new GetBatcher<EntryRead, Buffer | string>(
    async (keys) => {
      // MGET answers nil for a key of another type; a lone GET errors with WRONGTYPE: a corrupt entry, not a failure.
      if (keys.length === 1) {
        try {
          return [await this.#bound(this.#client.getBuffer(keys[0]!), "GET")];
        } catch (error) {
          return [corruptOnWrongType(error)];
        }
      }
      if (!this.#cluster) return this.#bound(this.#client.mgetBuffer(keys), "MGET"); // one slot space: no regrouping
      return this.#bound(clusterMget(this.#client as Cluster, keys, groupBySlot(keys, true), hashSlot), "MGET");
    },
    this.#getOne,
    this.#decodeRaw,
    // A lone GET of a key of another type errors with WRONGTYPE (an MGET reads it as nil): a corrupt entry.
    (error) => this.#decodeRaw(corruptOnWrongType(error)),
  );

  async readMany(ids: ReadonlyArray<string>, slideMs = 0): Promise<EntryRead[]> {
    const keys = ids.map((id) => this.key(id));
    if (!this.#cluster && slideMs === 0 && keys.length > 0) {
      // One server: a single MGET in the callers' order, its replies kept as bytes and decoded in place (see
      // decodeEntryBytes: only the bodies become strings).
      const raws = await this.#bound(this.#client.mgetBuffer(keys), "MGET");
      const fingerprint = this.#fingerprintBytes;
      const out = new Array<EntryRead>(raws.length);
      for (let i = 0; i < raws.length; i++) {
        const raw = raws[i];
        out[i] = raw === null || raw === undefined ? "miss" : decodeEntryBytes(fingerprint, raw);
      }
      return out;
    }
    if (slideMs === 0 && keys.length > 0) {
      // A Cluster: one MGET per slot, pipelined per node (cluster-mget.ts).
      const groups = groupBySlot(keys, true);
      const raws = await this.#bound(clusterMget(this.#client as Cluster, keys, groups, hashSlot), "MGET");
      return raws.map((raw) => (typeof raw === "string" ? decodeEntry(this.fingerprint, raw) : "miss"));
    }
    const out = new Array<EntryRead>(ids.length);
    await Promise.all(
      groupBySlot(keys, this.#cluster).map(async (group) => {
        const args: Array<string | number> = [];
        for (const i of group) args.push(keys[i]!, this.clockKey(ids[i]!));
        args.push(slideMs);
        const raws = await this.#bound(this.#client.strataSlidingRead(group.length * 2, ...args), "sliding read");
        group.forEach((index, j) => {
          const raw = raws[j];
          out[index] = typeof raw === "string" ? decodeEntry(this.fingerprint, raw) : "miss";
        });
      }),
    );
    return out;
  }

  put(id: string, entry: DocumentEntry, ttlMs: number, slideMs = 0): Promise<PutResult> {
    return this.#putOne(id, entry, ttlMs, slideMs, "0");
  }

  writeThrough(id: string, entry: DocumentEntry, ttlMs: number, slideMs = 0): Promise<PutResult> {
    return this.#putOne(id, entry, ttlMs, slideMs, "1");
  }

  async putMany(items: ReadonlyArray<EntryPut>, slideMs = 0): Promise<PutResult[]> {
    const keys = items.map((item) => this.key(item.id));
    const out = new Array<PutResult>(items.length).fill("stored");
    const sliding = slideMs > 0;
    await Promise.all(
      groupBySlot(keys, this.#cluster).map(async (group) => {
        // One script call per slot (see FENCED_PUT_MANY_LUA): keys first, then shared and per-item arguments. The
        // script reads each item's version from its envelope, so only the envelope (and its TTL, unless all items
        // share one) travels per item.
        const args: Array<string | number> = [];
        for (const i of group) {
          const id = items[i]!.id;
          args.push(keys[i]!, this.floorKey(id));
          if (sliding) args.push(this.clockKey(id));
        }
        const keyCount = args.length;
        const ttlOf = (i: number) => Math.max(1, Math.ceil(items[i]!.ttlMs));
        const first = ttlOf(group[0]!);
        const shared = group.every((i) => ttlOf(i) === first);
        args.push(slideMs, this.fingerprint, "0", this.maxTtlMs, shared ? first : "");
        for (const i of group) {
          args.push(encodeEntry(this.fingerprint, items[i]!.entry));
          if (!shared) args.push(ttlOf(i));
        }
        const call = this.#client.strataFencedPutMany(keyCount, ...args);
        const rejected = await this.#bound(call, "fenced put of many");
        for (const position of rejected) out[group[position - 1]!] = "rejected";
      }),
    );
    return out;
  }

  async clear(id: string, incarnation: number, rev: number, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const call = this.#fencedPut(id, "", ttlMs, slideMs, "1", incarnation, String(rev));
    return (await this.#bound(call, "clear")) === 1 ? "stored" : "rejected";
  }

  async tombstone(id: string, incarnation: number, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const envelope = encodeTombstone(this.fingerprint, incarnation, Date.now());
    const call = this.#fencedPut(id, envelope, ttlMs, slideMs, "1");
    return (await this.#bound(call, "tombstone")) === 1 ? "stored" : "rejected";
  }

  /**
   * SCAN for the document's entry prefix on every master, then UNLINK what it found, one key per command (on a
   * Cluster one node holds keys of many slots). Each deletion is a tracking invalidation for every L1.
   */
  async clearAll(): Promise<number> {
    const client = this.#client as Redis | Cluster;
    const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes("master") : [client as Redis];
    const pattern = `${escapeGlob(this.prefix)}*`;
    let removed = 0;
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await this.#bound(node.scan(cursor, "MATCH", pattern, "COUNT", 1000), "SCAN");
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        const replies = (await this.#bound(pipeline.exec(), "UNLINK")) ?? [];
        for (const [error, count] of replies) if (error === null && count === 1) removed++;
      } while (cursor !== "0");
    }
    return removed;
  }

  async #putOne(
    id: string,
    entry: DocumentEntry,
    ttlMs: number,
    slideMs: number,
    raiseFloor: "0" | "1",
  ): Promise<PutResult> {
    const call = this.#fencedPut(id, encodeEntry(this.fingerprint, entry), ttlMs, slideMs, raiseFloor);
    return (await this.#bound(call, "fenced put")) === 1 ? "stored" : "rejected";
  }

  /**
   * One FENCED_PUT_LUA call: the script reads the version from the envelope, so only a clear (an empty envelope)
   * sends it; the idle clock key goes only when sliding.
   */
  #fencedPut(
    id: string,
    envelope: string,
    ttlMs: number,
    slideMs: number,
    raiseFloor: "0" | "1",
    incarnation?: number,
    rev?: string,
  ): Promise<number> {
    const sliding = slideMs > 0;
    const args: FencedPutArgs = sliding
      ? [this.key(id), this.floorKey(id), this.clockKey(id)]
      : [this.key(id), this.floorKey(id)];
    args.push(
      envelope,
      Math.max(1, Math.ceil(ttlMs)),
      this.fingerprint,
      raiseFloor,
      this.maxTtlMs,
      sliding ? slideMs : 0,
    );
    if (incarnation !== undefined && rev !== undefined) args.push(incarnation, rev);
    return fencedPut(this.#client, sliding ? 3 : 2, args);
  }

  #bound<T>(promise: Promise<T>, operation: string): Promise<T> {
    return this.#deadline.bound(promise, operation);
  }
}

function firstRead(reads: EntryRead[]): EntryRead {
  return reads[0] ?? "miss";
}

/** A SCAN MATCH pattern that matches `text` literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

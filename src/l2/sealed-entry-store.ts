import type { ValueSealer } from "../sealing/value-sealer.js";
import type { DocumentEntry, DocumentEntryStore, EntryPut, EntryRead, PutResult } from "./document-entry.js";

/**
 * A sealed body in an entry's envelope: `~` then the sealed bytes in base64. A JSON document body always starts with
 * `{`, so the first character tells sealed bodies from plain ones (mixed entries read back when only compression is
 * on). The envelope header stays plaintext: the fence reads the version without opening anything.
 */
const SEALED_MARK = "~";

/**
 * The body transform of a document's entries: a decorator over any DocumentEntryStore that seals bodies on every
 * write and opens them on every read. Fences, floors, tombstones and clears pass through untouched. The associated
 * data binds a body to `place` (namespace, tenant, schema keyspace), the id, and the version header (incarnation,
 * rev, fetchedAt, delta, freshUntil): a body copied to another id, tenant or namespace, or under a changed header,
 * fails authentication and reads as "corrupt" — a miss, counted, replaced by the next fill.
 */
export class SealedEntryStore implements DocumentEntryStore {
  readonly inProcess: boolean | undefined;

  constructor(
    private readonly inner: DocumentEntryStore,
    private readonly sealer: ValueSealer,
    /** Where the entries live, e.g. `d|<namespace>|<tenant>|<keyspace>`. */
    private readonly place: string,
  ) {
    this.inProcess = inner.inProcess;
  }

  async read(id: string, slideMs?: number): Promise<EntryRead> {
    return this.#open(id, await this.inner.read(id, slideMs));
  }

  async readMany(ids: ReadonlyArray<string>, slideMs?: number): Promise<EntryRead[]> {
    const reads = await this.inner.readMany(ids, slideMs);
    for (let i = 0; i < reads.length; i++) reads[i] = this.#open(ids[i] as string, reads[i] as EntryRead);
    return reads;
  }

  put(id: string, entry: DocumentEntry, ttlMs: number, slideMs?: number): Promise<PutResult> {
    return this.inner.put(id, this.#seal(id, entry), ttlMs, slideMs);
  }

  writeThrough(id: string, entry: DocumentEntry, ttlMs: number, slideMs?: number): Promise<PutResult> {
    return this.inner.writeThrough(id, this.#seal(id, entry), ttlMs, slideMs);
  }

  putMany(items: ReadonlyArray<EntryPut>, slideMs?: number): Promise<PutResult[]> {
    return this.inner.putMany(
      items.map((item) => ({ id: item.id, entry: this.#seal(item.id, item.entry), ttlMs: item.ttlMs })),
      slideMs,
    );
  }

  clear(id: string, incarnation: number, rev: number, ttlMs: number, slideMs?: number): Promise<PutResult> {
    return this.inner.clear(id, incarnation, rev, ttlMs, slideMs);
  }

  tombstone(id: string, incarnation: number, ttlMs: number, slideMs?: number): Promise<PutResult> {
    return this.inner.tombstone(id, incarnation, ttlMs, slideMs);
  }

  #seal(id: string, entry: DocumentEntry): DocumentEntry {
    // The header as the envelope writes it (whole milliseconds), so the reader rebuilds the same associated data.
    const header: DocumentEntry = {
      incarnation: entry.incarnation,
      rev: entry.rev,
      fetchedAt: Math.floor(entry.fetchedAt),
      delta: Math.ceil(entry.delta),
      freshUntil: Math.floor(entry.freshUntil),
      body: "",
    };
    const sealed = this.sealer.seal(Buffer.from(entry.body, "utf8"), this.#aad(id, header));
    return { ...header, body: SEALED_MARK + sealed.toString("base64") };
  }

  #open(id: string, read: EntryRead): EntryRead {
    if (typeof read === "string") return read;
    if (!read.body.startsWith(SEALED_MARK)) {
      if (!this.sealer.encrypts) return read; // written before compression was turned on
      this.sealer.counters.authFailed++; // in clear where this route encrypts: never trusted
      return "corrupt";
    }
    const plain = this.sealer.open(Buffer.from(read.body.slice(1), "base64"), this.#aad(id, read));
    if (typeof plain === "string") return "corrupt";
    return { ...read, body: plain.toString("utf8") };
  }

  #aad(id: string, entry: DocumentEntry): Buffer {
    return Buffer.from(
      `${this.place}|${id}|${entry.incarnation}|${entry.rev}|${entry.fetchedAt}|${entry.delta}|${entry.freshUntil}`,
      "utf8",
    );
  }
}

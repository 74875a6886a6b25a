import type { L1Store } from "../../l1/l1-store.js";
import type { DocumentEntry, DocumentEntryStore, EntryPut, EntryRead, PutResult } from "../../l2/document-entry.js";
import { TOMBSTONE_REV } from "../../l2/document-entry.js";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../runtime/logger.js";
import { RateLimitedLog } from "../../runtime/rate-limited-log.js";
import type { CacheSpec } from "../../spec/document-spec.js";
import type { FieldCodec } from "../../spec/field-codec.js";
import { abortable } from "../abortable.js";
import type { FrozenDocument } from "../document-codec.js";
import { decodeBody, documentFromRow, encodeBody } from "../document-codec.js";
import type { DocumentRepository, StoredRow, TransactionScope } from "../document-repository.js";
import type { BackgroundRefresher } from "./background-refresher.js";
import type { DocumentStats } from "./document-stats.js";
import { DocumentCounters } from "./document-stats.js";
import { entryLifetime } from "./entry-lifetime.js";
import { type L1Slot, l1Slot } from "./l1-slot.js";
import { WriteThroughRetrier } from "./write-through-retrier.js";
import { xfetchElected } from "./xfetch.js";

/** A read's options. */
export interface ReadOptions {
  readonly signal?: AbortSignal;
  /** Read Postgres directly: no cache lookup, no fill. */
  readonly skipCache?: boolean;
}

export interface CoordinatorParts {
  readonly document: string;
  readonly repository: DocumentRepository;
  /** The scope for reads that fill caches (outside any transaction). */
  readonly autocommit: TransactionScope;
  readonly cache: CacheSpec | undefined;
  /** L2; undefined when the document is not cached or no backend routes its cache. */
  readonly entries: DocumentEntryStore | undefined;
  /** L1; undefined unless the cache spec asks for it (and L2 is routed). */
  readonly l1: L1Store<L1Slot> | undefined;
  /** Runs XFetch background refreshes; shared by every document of the runtime. */
  readonly refresher: BackgroundRefresher | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Revives declared Date/bigint fields; undefined when the schema has none (nothing to do on a hit). */
  readonly codec?: FieldCodec | undefined;
  /** Bodies over this many bytes are not cached in L2 (the cache's maxValueBytes; default: no limit). */
  readonly maxBodyBytes?: number | undefined;
}

/** How many expected XFetch leads before freshness ends an L1 copy lets go (P(elected) ≈ e^-L1_LEAD there). */
const L1_LEAD = 3;

/** How far another replica's clock may run ahead before its entries' freshness looks implausible (see #judge). */
const CLOCK_SKEW_MS = 1_000;

type Docs = Map<string, FrozenDocument | undefined>;

/** A getMany batch in flight: joiners look their id up in the batch's result. */
class BatchFlight {
  constructor(readonly docs: Promise<Docs>) {}
}
type Flight = Promise<FrozenDocument | undefined> | BatchFlight;

/** A usable L2 entry that a refetch may still fall back on: fresh but elected, or stale within grace. */
interface Fallback {
  readonly doc: FrozenDocument;
  readonly entry: DocumentEntry;
}

/**
 * The read-through coordinator of one document on one runtime: L1 → L2 → Postgres on reads, with one fetch per id
 * in flight (single-flight); fenced fills; write-through (or tombstone) after commit, then L1 invalidation; XFetch
 * early refresh; age-based and sliding lifetimes; stale-if-error within grace.
 *
 * Ordering that keeps L1 honest: a fill takes a token before it reads L2; a local write (after its L2 write-through)
 * or a push invalidation voids the token of its id, and an L1 flush voids them all. A fill whose token was voided
 * returns its value but does not cache it in L1.
 */
export class ReadThroughCoordinator {
  readonly counters = new DocumentCounters();
  readonly #flights = new Map<string, Flight>();
  /** id → token of the fill in flight (single-flight makes it at most one per id). */
  readonly #fillTokens = new Map<string, number>();
  #nextToken = 1;
  /** While false (push channel down), reads do not fill L1. */
  #l1Open = true;
  readonly #retrier: WriteThroughRetrier;
  readonly #ttlMs: number;
  readonly #graceMs: number;
  readonly #slideMs: number;
  readonly #tombstoneTtlMs: number;
  /** No entry we write is fresh for longer than this from now; one that claims more is foreign (see #judge). */
  readonly #maxFreshAheadMs: number;
  readonly #beta: number;
  readonly #background: boolean;
  readonly #ageTtl: CacheSpec["ageTtl"];

  readonly #degraded: RateLimitedLog;
  /** Set by stop(): L2 failures after it are the runtime closing Redis, not a degradation to report. */
  #stopped = false;

  constructor(private readonly parts: CoordinatorParts) {
    this.#degraded = new RateLimitedLog(parts.logger, parts.clock);
    const cache = parts.cache;
    this.#ttlMs = cache?.ttlMs ?? 0;
    this.#graceMs = cache?.graceMs ?? 0;
    this.#slideMs = cache?.slidingTtlMs ?? 0;
    this.#ageTtl = cache?.ageTtl;
    this.#beta = cache?.earlyRefresh?.beta ?? 0;
    this.#background = cache?.earlyRefresh?.background === true && parts.refresher !== undefined;
    const lifetime = entryLifetime(cache);
    const longest = lifetime.freshMs;
    // A tombstone must outlive any fill in flight; fills older than half of it are dropped (see #fillIsTooOld).
    this.#tombstoneTtlMs = lifetime.maxTtlMs;
    this.#maxFreshAheadMs = longest + CLOCK_SKEW_MS;
    this.#retrier = new WriteThroughRetrier(
      parts.document,
      { baseDelayMs: 50, maxDelayMs: 5_000, maxAttempts: 12, quarantineMs: longest + this.#graceMs },
      parts.clock,
      parts.logger,
    );
  }

  get document(): string {
    return this.parts.document;
  }

  get cached(): boolean {
    return this.parts.entries !== undefined;
  }

  stats(): DocumentStats {
    return this.counters.snapshot(this.parts.l1?.stats());
  }

  /** Synchronous L1 lookup (`query.peek`). */
  peek(id: string): FrozenDocument | undefined {
    return this.parts.l1?.get(id)?.doc;
  }

  /** The L1 store, for the query port's hit path (`slot.resolved` is a promise already settled to the document). */
  get l1(): L1Store<L1Slot> | undefined {
    return this.parts.l1;
  }

  /**
   * One document, or undefined when it does not exist. `id` must already be a checked, lower-case UUID.
   * `l1Missed`: the caller has just looked `id` up in L1 and missed (so the miss is not counted twice).
   */
  get(
    scope: TransactionScope,
    id: string,
    options: ReadOptions | undefined,
    l1Missed = false,
  ): Promise<FrozenDocument | undefined> {
    if (scope.inTransaction || options?.skipCache === true) return this.#direct(scope, id, options?.signal);
    const l1 = this.parts.l1;
    if (l1 !== undefined && !l1Missed) {
      const hit = l1.get(id);
      if (hit !== undefined) return hit.resolved;
    }
    const flight = this.#flights.get(id);
    let work: Promise<FrozenDocument | undefined>;
    if (flight === undefined) {
      const load = this.#load(id);
      this.#flights.set(id, load);
      // Unregister when settled — unless a write or an invalidation already detached it (see invalidateLocal).
      const settle = () => {
        if (this.#flights.get(id) === load) this.#flights.delete(id);
      };
      load.then(settle, settle);
      work = load;
    } else {
      this.counters.collapsed++;
      work = flight instanceof BatchFlight ? flight.docs.then((docs) => docs.get(id)) : flight;
    }
    return options?.signal === undefined ? work : abortable(work, options.signal);
  }

  /** Documents by id (unique ids); the map has every id asked, `undefined` where one does not exist. */
  async getMany(scope: TransactionScope, ids: ReadonlyArray<string>, options: ReadOptions | undefined): Promise<Docs> {
    const found: Docs = new Map();
    const signal = options?.signal;
    if (scope.inTransaction || options?.skipCache === true) {
      const rows = await abortable(this.parts.repository.getMany(scope, ids, { signal }), signal);
      this.counters.batchFetches++;
      for (const id of ids) found.set(id, undefined);
      for (const row of rows) found.set(row.id, documentFromRow(row, this.parts.codec));
      return found;
    }
    let batch: string[] | undefined;
    let joined: Array<Promise<void>> | undefined;
    const l1 = this.parts.l1;
    for (const id of ids) {
      const hit = l1?.get(id);
      if (hit !== undefined) {
        found.set(id, hit.doc);
        continue;
      }
      const flight = this.#flights.get(id);
      if (flight === undefined) {
        if (batch === undefined) batch = [];
        batch.push(id);
      } else {
        this.counters.collapsed++;
        const doc = flight instanceof BatchFlight ? flight.docs.then((docs) => docs.get(id)) : flight;
        if (joined === undefined) joined = [];
        joined.push(doc.then((value) => void found.set(id, value)));
      }
    }
    let own: Promise<void> | undefined;
    if (batch !== undefined) {
      const ours = batch;
      const loaded = this.#loadBatch(ours);
      const flight = new BatchFlight(loaded);
      for (const id of ours) this.#flights.set(id, flight);
      const clear = () => {
        for (const id of ours) if (this.#flights.get(id) === flight) this.#flights.delete(id);
      };
      loaded.then(clear, clear);
      own = loaded.then((docs) => {
        for (const [id, doc] of docs) found.set(id, doc);
      });
    }
    const pending: Promise<unknown> | undefined =
      joined === undefined ? own : Promise.all(own === undefined ? joined : [own, ...joined]);
    if (pending !== undefined) await (signal === undefined ? pending : abortable(pending, signal));
    return found;
  }

  /**
   * After a create committed: clear whatever older L2 holds for the id (fenced, raising the version floor to the new
   * version), then drop the L1 entry. A new id normally has nothing cached, but an earlier life whose row vanished
   * without a tombstone (TRUNCATE, a restore, a raw DELETE) or planted bytes would otherwise be served as a hit.
   * The new version itself is not written: read-through fills it on first read, with a measured fetch cost for
   * early refresh, and documents that are never read never occupy the cache.
   */
  async afterCreate(row: StoredRow): Promise<void> {
    const entries = this.parts.entries;
    if (entries !== undefined) {
      const write = () => entries.clear(row.id, row.incarnation, row.rev, this.#tombstoneTtlMs, this.#slideMs);
      await this.#writeThrough(row.id, row.incarnation, row.rev, write, false);
    }
    this.invalidateLocal(row.id);
  }

  /** After an update committed: write the new version through to L2, then drop the L1 entry. */
  async afterWrite(row: StoredRow): Promise<void> {
    const entries = this.parts.entries;
    if (entries !== undefined) {
      const entry = this.#writtenEntry(row);
      if (this.#fits(entry.body)) {
        const write = () => entries.writeThrough(row.id, entry, this.#physicalTtl(entry), this.#slideMs);
        await this.#writeThrough(row.id, row.incarnation, row.rev, write);
      } else {
        // Too big to cache: fence the older versions out with a tombstone (a miss for readers) instead.
        this.counters.tooLarge++;
        const write = () => entries.tombstone(row.id, row.incarnation, this.#tombstoneTtlMs, this.#slideMs);
        await this.#writeThrough(row.id, row.incarnation, TOMBSTONE_REV, write);
      }
    }
    this.invalidateLocal(row.id);
  }

  /** After a delete committed: tombstone the incarnation in L2, then drop the L1 entry. */
  async afterDelete(row: StoredRow): Promise<void> {
    const entries = this.parts.entries;
    if (entries !== undefined) {
      const write = () => entries.tombstone(row.id, row.incarnation, this.#tombstoneTtlMs, this.#slideMs);
      await this.#writeThrough(row.id, row.incarnation, TOMBSTONE_REV, write);
    }
    this.invalidateLocal(row.id);
  }

  /**
   * Drops the L1 entry of `id`, voids any fill in flight for it, and detaches its read in flight, so that no read
   * starting from now joins a fetch that may predate the write (local writes and push invalidations).
   */
  invalidateLocal(id: string): void {
    this.#fillTokens.delete(id);
    this.#flights.delete(id);
    this.parts.l1?.invalidate(id);
  }

  /** Drops every L1 entry and voids every fill in flight (push channel lost, FLUSHALL). */
  flushLocal(): void {
    this.#fillTokens.clear();
    this.parts.l1?.clear();
  }

  /** Opens or closes L1 filling (closed while push invalidation is disarmed). Closing also flushes. */
  setL1Open(open: boolean): void {
    if (!open) this.flushLocal();
    this.#l1Open = open;
  }

  stop(): void {
    this.#stopped = true;
    this.#retrier.stop();
  }

  async #direct(
    scope: TransactionScope,
    id: string,
    signal: AbortSignal | undefined,
  ): Promise<FrozenDocument | undefined> {
    const row = await abortable(this.parts.repository.get(scope, id, { signal }), signal);
    this.counters.fetches++;
    return row === undefined ? undefined : documentFromRow(row, this.parts.codec);
  }

  /** The single flight of one id. Registered in #flights by the caller; it removes itself when it settles. */
  async #load(id: string): Promise<FrozenDocument | undefined> {
    const token = this.#beginFill(id);
    const entries = this.parts.entries;
    const trusted = entries !== undefined && !this.#retrier.isSuspect(id);
    let fallback: Fallback | undefined;
    let readOk = false;
    if (trusted) {
      let read: EntryRead | undefined;
      try {
        read = await entries.read(id, this.#slideMs);
        readOk = true;
      } catch (error) {
        this.#l2Error("read", error);
      }
      if (read !== undefined) {
        const doc = this.#decode(id, read);
        if (doc !== undefined) {
          const entry = read as DocumentEntry;
          const verdict = this.#judge(entry, this.parts.clock.now());
          if (verdict === "background") this.#refreshLater([id]);
          if (verdict === "hit" || verdict === "background") {
            this.#finishFill(id, token, doc, this.#l1Horizon(entry));
            return doc;
          }
          if (verdict !== "foreign") fallback = { doc, entry };
        }
      }
    }
    const started = this.parts.clock.now();
    let row: StoredRow | undefined;
    try {
      row = await this.parts.repository.get(this.parts.autocommit, id);
    } catch (error) {
      this.#endFill(id, token);
      return this.#fallBack(fallback, error);
    }
    this.counters.fetches++;
    if (row === undefined) {
      this.#endFill(id, token);
      return undefined;
    }
    const doc = documentFromRow(row, this.parts.codec);
    let freshUntil = Number.POSITIVE_INFINITY;
    if (trusted && readOk) {
      const entry = this.#entryFor(row, started);
      freshUntil = this.#l1Horizon(entry);
      await this.#fill([{ id, entry, ttlMs: this.#physicalTtl(entry) }], started);
    }
    this.#finishFill(id, token, doc, freshUntil);
    return doc;
  }

  async #loadBatch(ids: ReadonlyArray<string>): Promise<Docs> {
    const docs: Docs = new Map();
    const tokens = this.parts.l1 === undefined ? undefined : ids.map((id) => this.#beginFill(id));
    const entries = this.parts.entries;
    /** Ids to read from Postgres, and which of those may be filled (their L2 read worked and they are not suspect). */
    const fetch: string[] = [];
    const fillable = new Set<string>();
    /** Until when L1 may hold each id that was found (see #l1Horizon). */
    const freshUntil = new Map<string, number>();
    let fallbacks: Map<string, Fallback> | undefined;
    let background: string[] | undefined;
    if (entries === undefined) {
      fetch.push(...ids);
    } else {
      // Suspect ids (a write-through pending or given up on) are read from Postgres and never filled.
      const trusted = this.#retrier.idle ? ids : ids.filter((id) => !this.#retrier.isSuspect(id));
      let reads: EntryRead[] | undefined;
      try {
        reads = await entries.readMany(trusted, this.#slideMs);
      } catch (error) {
        this.#l2Error("readMany", error);
      }
      const now = this.parts.clock.now(); // one clock read per batch, not per entry
      for (let i = 0; i < trusted.length; i++) {
        const id = trusted[i] as string;
        const read = reads?.[i];
        const doc = read === undefined ? undefined : this.#decode(id, read);
        if (doc !== undefined) {
          const entry = read as DocumentEntry;
          const verdict = this.#judge(entry, now);
          if (verdict === "hit" || verdict === "background") {
            docs.set(id, doc);
            if (tokens !== undefined) freshUntil.set(id, this.#l1Horizon(entry));
            if (verdict === "background") {
              if (background === undefined) background = [];
              background.push(id);
            }
            continue;
          }
          if (verdict !== "foreign") {
            if (fallbacks === undefined) fallbacks = new Map();
            fallbacks.set(id, { doc, entry });
          }
        }
        fetch.push(id);
        if (reads !== undefined) fillable.add(id);
      }
      if (trusted !== ids) for (const id of ids) if (!trusted.includes(id)) fetch.push(id);
    }
    if (background !== undefined) this.#refreshLater(background);

    if (fetch.length > 0) {
      const started = this.parts.clock.now();
      let rows: StoredRow[] | undefined;
      try {
        rows = await this.parts.repository.getMany(this.parts.autocommit, fetch);
      } catch (error) {
        // Every id needs a usable fallback, or the whole batch fails like the query did (releasing its fill tokens).
        try {
          for (const id of fetch) docs.set(id, this.#fallBack(fallbacks?.get(id), error));
        } catch (failure) {
          if (tokens !== undefined) for (let i = 0; i < ids.length; i++) this.#endFill(ids[i]!, tokens[i]!);
          throw failure;
        }
      }
      if (rows !== undefined) {
        this.counters.batchFetches++;
        const byId = new Map<string, StoredRow>();
        for (const row of rows) byId.set(row.id, row);
        const puts: EntryPut[] = [];
        for (const id of fetch) {
          const row = byId.get(id);
          docs.set(id, row === undefined ? undefined : documentFromRow(row, this.parts.codec));
          if (row !== undefined && fillable.has(id)) {
            const entry = this.#entryFor(row, started);
            freshUntil.set(id, this.#l1Horizon(entry));
            puts.push({ id, entry, ttlMs: this.#physicalTtl(entry) });
          }
        }
        if (puts.length > 0) await this.#fill(puts, started);
      }
    }
    if (tokens !== undefined) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as string;
        const doc = docs.get(id);
        if (doc === undefined) this.#endFill(id, tokens[i] as number);
        else this.#finishFill(id, tokens[i] as number, doc, freshUntil.get(id) ?? Number.POSITIVE_INFINITY);
      }
    }
    return docs;
  }

  /**
   * What to do with a decodable entry: serve it, serve it and refresh in the background, or refetch now. An entry
   * fresh for longer than any lifetime we give is foreign (forged or planted): a miss, never served, and the fill
   * that follows meets it in the fence, which bounds how long it can stay (fence-script.ts).
   */
  #judge(entry: DocumentEntry, now: number): "hit" | "background" | "inline" | "stale" | "foreign" {
    if (entry.freshUntil - now > this.#maxFreshAheadMs) {
      this.counters.l2Corrupt++;
      this.counters.l2Misses++;
      return "foreign";
    }
    if (entry.freshUntil <= now) {
      this.counters.l2Stale++;
      this.counters.l2Misses++;
      return "stale";
    }
    this.counters.l2Hits++;
    if (this.#beta > 0 && this.#elected(entry, now)) {
      if (this.#background) {
        this.counters.electedBackground++;
        return "background";
      }
      this.counters.electedInline++;
      return "inline";
    }
    return "hit";
  }

  /**
   * Until when L1 may serve this entry. With early refresh, L1 lets go a few expected recompute leads
   * (`L1_LEAD × beta × delta`) before freshness ends, so the last reads before expiry reach L2 and can be elected;
   * otherwise every L1 would expire exactly at the horizon and XFetch would never get a say.
   */
  #l1Horizon(entry: DocumentEntry): number {
    if (this.#beta === 0 || entry.delta === 0) return entry.freshUntil;
    return entry.freshUntil - L1_LEAD * this.#beta * entry.delta;
  }

  /** XFetch election (see xfetch.ts). */
  #elected(entry: DocumentEntry, now: number): boolean {
    return xfetchElected(now, entry.delta, this.#beta, this.parts.clock.random(), entry.freshUntil);
  }

  /**
   * Hands `ids` to the background refresher. An id it declines (already refreshing, or the cap is reached) is a
   * dropped election: the entry is still fresh, and a later hit will be elected again.
   */
  #refreshLater(ids: ReadonlyArray<string>): void {
    const refresher = this.parts.refresher;
    if (refresher === undefined) return;
    const keys = ids.map((id) => `${this.parts.document}:${id}`);
    const taken = refresher.start(
      keys,
      (indices) => this.#refresh(indices.map((i) => ids[i] as string)),
      () => {
        this.counters.refreshFailures++;
      },
    );
    this.counters.refreshDropped += ids.length - taken;
  }

  /** A background refresh: read Postgres, fill through the fence, and drop L1 copies a newer rev supersedes. */
  async #refresh(ids: ReadonlyArray<string>): Promise<void> {
    const started = this.parts.clock.now();
    const rows = await this.parts.repository.getMany(this.parts.autocommit, ids);
    this.counters.batchFetches++;
    const puts = rows.map((row) => {
      const entry = this.#entryFor(row, started);
      return { id: row.id, entry, ttlMs: this.#physicalTtl(entry) };
    });
    if (puts.length > 0 && !(await this.#fill(puts, started))) throw new Error("refresh fill failed");
    const l1 = this.parts.l1;
    if (l1 !== undefined) {
      for (const row of rows) {
        const cached = l1.peek === undefined ? l1.get(row.id) : l1.peek(row.id);
        if (cached !== undefined && cached.doc.rev !== row.rev) this.invalidateLocal(row.id);
      }
    }
  }

  /** Fenced fills; counts the outcome. False when the store failed. */
  async #fill(puts: EntryPut[], started: number): Promise<boolean> {
    const entries = this.parts.entries;
    if (entries === undefined) return true;
    if (this.#fillIsTooOld(started)) {
      this.counters.fillsFailed += puts.length;
      return false;
    }
    const fitting = puts.filter((put) => this.#fits(put.entry.body));
    if (fitting.length < puts.length) {
      this.counters.tooLarge += puts.length - fitting.length;
      puts = fitting;
      if (puts.length === 0) return true;
    }
    try {
      const results =
        puts.length === 1
          ? [await entries.put(puts[0]!.id, puts[0]!.entry, puts[0]!.ttlMs, this.#slideMs)]
          : await entries.putMany(puts, this.#slideMs);
      for (const result of results) {
        if (result === "stored") this.counters.fills++;
        else this.counters.fillsRejected++;
      }
      return true;
    } catch (error) {
      this.counters.fillsFailed += puts.length;
      this.#l2Error("fill", error);
      return false;
    }
  }

  /** Postgres failed: serve the fallback if it is fresh, or stale within grace; otherwise rethrow. */
  #fallBack(fallback: Fallback | undefined, error: unknown): FrozenDocument {
    if (fallback !== undefined) {
      const now = this.parts.clock.now();
      if (fallback.entry.freshUntil > now) {
        this.counters.refreshFailures++;
        return fallback.doc;
      }
      if (fallback.entry.freshUntil + this.#graceMs > now) {
        this.counters.staleServes++;
        this.parts.logger.debug("Postgres failed; served a stale entry within grace", {
          document: this.parts.document,
          error: error instanceof Error ? error.message : String(error),
        });
        return fallback.doc;
      }
    }
    throw error;
  }

  /** The document in an L2 read when it decodes; counts misses and corrupt entries. */
  #decode(id: string, read: EntryRead): FrozenDocument | undefined {
    if (typeof read === "string") {
      if (read === "corrupt") this.counters.l2Corrupt++;
      this.counters.l2Misses++;
      return undefined;
    }
    const doc = decodeBody(read.body, id, read.rev, this.parts.codec);
    if (doc === undefined) {
      this.counters.l2Corrupt++;
      this.counters.l2Misses++;
    }
    return doc;
  }

  /** Freshness lifetime of a version read now: the age heuristic when configured, else `ttl`. */
  #lifetime(row: StoredRow, now: number): number {
    const age = this.#ageTtl;
    if (age === undefined) return this.#ttlMs;
    const lifetime = age.alpha * (now - row.updatedAt.getTime());
    return Math.min(age.maxMs, Math.max(age.minMs, Number.isFinite(lifetime) ? lifetime : age.minMs));
  }

  #entryFor(row: StoredRow, started: number): DocumentEntry {
    const now = this.parts.clock.now();
    return {
      incarnation: row.incarnation,
      rev: row.rev,
      fetchedAt: now,
      // At least 1 ms: the clock counts whole milliseconds, and a delta of 0 would switch XFetch off for the entry.
      delta: Math.max(1, now - started),
      freshUntil: now + this.#lifetime(row, now),
      body: encodeBody(row),
    };
  }

  /** Whether a body is within the cache's size limit; UTF-8 has at most 3 bytes per UTF-16 unit, so most never count. */
  #fits(body: string): boolean {
    const max = this.parts.maxBodyBytes;
    if (max === undefined || body.length * 3 <= max) return true;
    return body.length <= max && Buffer.byteLength(body, "utf8") <= max;
  }

  /** Physical lifetime in L2: freshness plus grace, so stale-if-error can still find the entry. */
  #physicalTtl(entry: DocumentEntry): number {
    return Math.max(1, entry.freshUntil - this.parts.clock.now()) + this.#graceMs;
  }

  /** A fetch that began longer ago than half a tombstone's life might predate a delete whose tombstone is gone. */
  #fillIsTooOld(started: number): boolean {
    return this.parts.clock.now() - started > this.#tombstoneTtlMs / 2;
  }

  /** `counted`: a clear (after a create) writes no version, so it is not counted as a write-through or rejection. */
  async #writeThrough(
    id: string,
    incarnation: number,
    rev: number,
    write: () => Promise<unknown>,
    counted = true,
  ): Promise<void> {
    try {
      const result = await write();
      if (counted) {
        this.counters.writeThroughs++;
        if (result === "rejected") this.counters.fillsRejected++;
      }
      this.#retrier.landed(id, incarnation, rev);
    } catch (error) {
      this.counters.writeThroughFailures++;
      this.#l2Error("write-through", error);
      this.#retrier.schedule(id, { incarnation, rev, run: () => this.#rewrite(id, incarnation) });
    }
  }

  /**
   * A write-through retry: writes what is committed *now*, never the version that failed. By the time a retry runs,
   * another replica may have committed (and written through) a newer version, and a Redis restart may have wiped
   * the entry and floor that would have fenced ours out; re-reading the row makes the retry a fenced write of the
   * newest committed version (or a tombstone when the row is gone), so retries landing in any order are correct.
   * A create's failed clear is retried the same way: writing the row through replaces anything older just as well.
   */
  async #rewrite(id: string, incarnation: number): Promise<PutResult> {
    const entries = this.parts.entries;
    if (entries === undefined) return "stored";
    const row = await this.parts.repository.get(this.parts.autocommit, id);
    this.counters.fetches++;
    if (row === undefined) return entries.tombstone(id, incarnation, this.#tombstoneTtlMs, this.#slideMs);
    const entry = this.#writtenEntry(row);
    return entries.writeThrough(id, entry, this.#physicalTtl(entry), this.#slideMs);
  }

  /** A committed version as written through: delta 0, so it is never elected for early refresh before it expires. */
  #writtenEntry(row: StoredRow): DocumentEntry {
    const now = this.parts.clock.now();
    return {
      incarnation: row.incarnation,
      rev: row.rev,
      fetchedAt: now,
      delta: 0,
      freshUntil: now + this.#lifetime(row, now),
      body: encodeBody(row),
    };
  }

  #beginFill(id: string): number {
    if (this.parts.l1 === undefined) return 0;
    const token = this.#nextToken++;
    this.#fillTokens.set(id, token);
    return token;
  }

  #endFill(id: string, token: number): void {
    if (this.#fillTokens.get(id) === token) this.#fillTokens.delete(id);
  }

  /** Caches the result in L1 when nothing invalidated the id (or flushed L1) since the fill began. */
  #finishFill(id: string, token: number, doc: FrozenDocument, freshUntil: number): void {
    const l1 = this.parts.l1;
    if (l1 === undefined) return;
    const valid = this.#fillTokens.get(id) === token && this.#l1Open;
    this.#endFill(id, token);
    if (!valid) return;
    // L1 never outlives L2 freshness; the store caps it further at l1.ttl.
    if (!Number.isFinite(freshUntil)) l1.set(id, l1Slot(doc));
    else {
      const remaining = freshUntil - this.parts.clock.now();
      if (remaining > 0) l1.set(id, l1Slot(doc), remaining);
    }
  }

  #l2Error(operation: string, error: unknown): void {
    this.counters.l2Errors++;
    // A Redis failing every call must be visible, without a line per read.
    if (this.#stopped) return;
    this.#degraded.warn("l2", "L2 call failed; served from Postgres", {
      document: this.parts.document,
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

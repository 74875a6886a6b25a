import { abortable } from "../kernel/abortable.js";
import { afterTurn } from "../kernel/after-turn.js";
import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import { RateLimitedLog } from "../kernel/rate-limited-log.js";
import type { L1Store } from "../l1/l1-store.js";
import { settledHit } from "../l1/settled-values.js";
import type { DocumentEntry, DocumentEntryStore, EntryPut, EntryRead } from "../l2/document-entry.js";
import type { EntryLeases } from "../l2/entry-lease.js";
import {
  callChannel,
  errorChannel,
  fillChannel,
  invalidateChannel,
  readChannel,
} from "../observability/event-channels.js";
import type { HealthMonitor } from "../observability/health-monitor.js";
import {
  publishAbsorbed,
  publishCall,
  publishCoalesced,
  publishFill,
  publishInvalidation,
  publishL1Hit,
  wallNow,
} from "../observability/publish.js";
import { ReadBatchTrace } from "../observability/read-batch-trace.js";
import { publishBatchReads, ReadTrace } from "../observability/read-trace.js";
import type { DocumentRepository, StoredRow, TransactionScope } from "../repository/document-repository.js";
import type { CacheSpec } from "../spec/document-spec.js";
import type { FieldCodec } from "../spec/field-codec.js";
import type { BackgroundRefresher } from "./background-refresher.js";
import { BatchDocs } from "./batch-docs.js";
import { fitsIn } from "./body-size.js";
import type { FrozenDocument } from "./document-codec.js";
import { decodeBody, decodeParsed, documentFromRow, parseBodies } from "./document-codec.js";
import { DocumentLease, type LeaseHold } from "./document-lease.js";
import type { DocumentStats } from "./document-stats.js";
import { DocumentCounters } from "./document-stats.js";
import type { Settled } from "./fill-lease.js";
import { FreshnessJudge } from "./freshness-judge.js";
import { InvalidationLag } from "./invalidation-lag.js";
import { L1FillGuard } from "./l1-fill-guard.js";
import { LifetimePolicy } from "./lifetime-policy.js";
import { PendingFills } from "./pending-fills.js";
import type { ReadOptions } from "./read-options.js";
import { type FlightTail, SingleFlight } from "./single-flight.js";
import { WriteThrough } from "./write-through.js";

export interface CoordinatorParts {
  readonly document: string;
  readonly repository: DocumentRepository;
  /** The scope for reads that fill caches (outside any transaction). */
  readonly autocommit: TransactionScope;
  readonly cache: CacheSpec | undefined;
  /** L2; undefined when the document is not cached or no backend routes its cache. */
  readonly entries: DocumentEntryStore | undefined;
  /** L1; undefined unless the cache spec asks for it (and L2 is routed). */
  readonly l1: L1Store<FrozenDocument> | undefined;
  /** Runs XFetch background refreshes; shared by every document of the runtime. */
  readonly refresher: BackgroundRefresher | undefined;
  /** Fills left running after their read answered; shared by the runtime, which drains it on stop (own one if absent). */
  readonly fills?: PendingFills | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Revives declared Date/bigint fields; undefined when the schema has none (nothing to do on a hit). */
  readonly codec?: FieldCodec | undefined;
  /** Bodies over this many bytes are not cached in L2 (the cache's maxValueBytes; default: no limit). */
  readonly maxBodyBytes?: number | undefined;
  /** The health of the L2 backend and of Postgres, fed by this document's calls (see runtime.health()). */
  readonly l2Health?: HealthMonitor | undefined;
  readonly sourceHealth?: HealthMonitor | undefined;
  /** Fill leases on `entries` (used when the cache spec has `lease`); `pushed`: push invalidation wakes waiters. */
  readonly leases?: { readonly entries: EntryLeases; readonly pushed: boolean } | undefined;
}

/** Ids of a batch that waited for another holder's lease, loaded with the reads their wait ended on. */
interface Deferred {
  readonly hold: LeaseHold;
  readonly reads: ReadonlyMap<string, Settled<EntryRead>>;
  /** Their L1 fill tokens, taken when the batch began. */
  readonly tokens: ReadonlyMap<string, number> | undefined;
}

/** A decodable L2 entry and its document: the stale-if-error fallback of a refetch. */
interface Found {
  readonly doc: FrozenDocument;
  readonly entry: DocumentEntry;
}

/**
 * The per-id decision after an L2 lookup, shared by `get` and `getMany`: serve the entry (`refresh`: and refresh
 * it in the background), fetch from Postgres keeping the entry as the stale-if-error `fallback`, or just `fetch`.
 * A string, so the L2 hit path allocates nothing for it.
 */
type Decision = "serve" | "refresh" | "fallback" | "fetch";

/**
 * The read-through coordinator of one document on one runtime: L1 → L2 → Postgres on reads, then the fenced fill;
 * the write path after commit. It only orchestrates; each part owns its state and the invariant it protects:
 * single-flight (one fetch per key), the L1 fill guard (no L1 fill that raced an invalidation), the lifetime
 * policy, the freshness judge (verdicts, XFetch, L1 horizon), and the write-through unit (read-your-writes).
 */
export class ReadThroughCoordinator {
  readonly counters = new DocumentCounters();
  readonly #flights = new SingleFlight<FrozenDocument>();
  readonly #guard: L1FillGuard;
  readonly #lifetimes: LifetimePolicy;
  readonly #judge: FreshnessJudge;
  readonly #writes: WriteThrough;
  /** The fill lease (cache.lease), or undefined. */
  readonly #lease: DocumentLease | undefined;
  /** A Redis failing every call must be visible, without a line per read. */
  readonly #degraded: RateLimitedLog;
  /** Push invalidation lag samples (coherence stats). */
  readonly #lag: InvalidationLag;
  /** Set by stop(): L2 failures after it are the runtime closing Redis, not a degradation to report. */
  #stopped = false;
  readonly #fills: PendingFills;

  constructor(private readonly parts: CoordinatorParts) {
    this.#fills = parts.fills ?? new PendingFills(parts.logger);
    this.#guard = new L1FillGuard(parts.l1, parts.clock);
    this.#lifetimes = new LifetimePolicy(parts.cache, parts.clock);
    this.#judge = new FreshnessJudge(
      parts.cache,
      this.#lifetimes.freshMs,
      parts.refresher !== undefined,
      parts.clock,
      this.counters,
    );
    this.#writes = new WriteThrough({
      document: parts.document,
      entries: parts.entries,
      repository: parts.repository,
      autocommit: parts.autocommit,
      lifetimes: this.#lifetimes,
      maxBodyBytes: parts.maxBodyBytes,
      counters: this.counters,
      onL2Error: (operation, error) => this.#l2Error(operation, error),
      clock: parts.clock,
      logger: parts.logger,
    });
    this.#degraded = new RateLimitedLog(parts.logger, parts.clock);
    this.#lag = new InvalidationLag(parts.document);
    const leaseSpec = parts.cache?.lease;
    this.#lease =
      leaseSpec === undefined || parts.leases === undefined || parts.entries === undefined
        ? undefined
        : new DocumentLease(
            parts.leases.entries,
            leaseSpec,
            parts.leases.pushed,
            parts.clock,
            (operation, error) => this.#l2Error(operation, error),
            undefined,
            parts.document,
          );
  }

  get document(): string {
    return this.parts.document;
  }

  stats(): DocumentStats {
    const stats = this.counters.snapshot(this.parts.l1?.stats(), this.#lag.stats());
    return this.#lease === undefined ? stats : { ...stats, lease: this.#lease.counters.snapshot() };
  }

  /** Synchronous L1 lookup (`query.peek`). */
  peek(id: string): FrozenDocument | undefined {
    return this.parts.l1?.get(id);
  }

  /** The L1 store, for the query port's hit path. */
  get l1(): L1Store<FrozenDocument> | undefined {
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
      const hit = settledHit(l1, id);
      if (hit !== undefined) {
        if (readChannel.hasSubscribers) publishL1Hit(this.parts.document, id);
        return hit;
      }
    }
    let work = this.#flights.join(id);
    if (work === undefined) {
      const tail: FlightTail = {};
      work = this.#load(id, tail);
      this.#flights.lead(id, work, tail);
    } else {
      this.counters.collapsed++;
      if (readChannel.hasSubscribers) publishCoalesced(this.parts.document, id);
    }
    return options?.signal === undefined ? work : abortable(work, options.signal);
  }

  /**
   * Documents by id, in the order asked, `undefined` where one does not exist; an id asked more than once is read
   * once. The array is the caller's own.
   */
  async getMany(
    scope: TransactionScope,
    ids: ReadonlyArray<string>,
    options: ReadOptions | undefined,
  ): Promise<Array<FrozenDocument | undefined>> {
    const signal = options?.signal;
    if (scope.inTransaction || options?.skipCache === true) {
      const rows = await abortable(this.parts.repository.getMany(scope, ids, { signal }), signal);
      this.counters.batchFetches++;
      const byId = new Map<string, FrozenDocument>();
      for (const row of rows) byId.set(row.id, documentFromRow(row, this.parts.codec));
      return ids.map((id) => byId.get(id));
    }
    const l1 = this.parts.l1;
    if (l1 !== undefined) {
      // L1 is looked up (and its frequencies counted) once per id: repeats are taken out first.
      const unique = new Set(ids);
      if (unique.size < ids.length) {
        const uniqueIds = [...unique];
        const docs = await this.getMany(scope, uniqueIds, options);
        const byId = new Map(uniqueIds.map((id, i) => [id, docs[i]] as const));
        return ids.map((id) => byId.get(id));
      }
    }
    /** The answer, made once a position is answered by L1 or by a read in flight (the others by this call's batch). */
    let out: Array<FrozenDocument | undefined> | undefined;
    /** Those positions, and the ids joined (the common all-new batch makes none of these). */
    let elsewhere: Set<number> | undefined;
    let joinedIds: Set<string> | undefined;
    const batch: string[] = [];
    let joined: Array<Promise<void>> | undefined;
    // One table lookup per id joins a read in flight or claims the id for this batch (and spots a repeated id).
    const open = this.#flights.openBatch();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const hit = l1?.get(id);
      if (hit !== undefined) {
        out ??= new Array<FrozenDocument | undefined>(ids.length).fill(undefined);
        out[i] = hit;
        elsewhere ??= new Set();
        elsewhere.add(i);
        if (readChannel.hasSubscribers) publishL1Hit(this.parts.document, id);
        continue;
      }
      const flight = this.#flights.joinOrAdd(id, open);
      if (flight === "lead") batch.push(id);
      else if (flight !== "again") {
        out ??= new Array<FrozenDocument | undefined>(ids.length).fill(undefined);
        const answer = out;
        elsewhere ??= new Set();
        elsewhere.add(i);
        joinedIds ??= new Set();
        if (!joinedIds.has(id)) {
          joinedIds.add(id);
          this.counters.collapsed++;
          if (readChannel.hasSubscribers) publishCoalesced(this.parts.document, id);
        }
        if (joined === undefined) joined = [];
        joined.push(
          flight.then((value) => {
            answer[i] = value;
          }),
        );
      }
    }
    let own: Promise<void> | undefined;
    if (batch.length > 0) {
      const tail: FlightTail = {};
      const loaded = this.#loadBatch(batch, undefined, tail);
      this.#flights.startBatch(open, batch, loaded, tail);
      if (batch.length === ids.length) {
        // The whole call is this batch, in the order asked: its documents are the answer (a copy: the batch's
        // joiners read its own array).
        const answer = loaded.then((docs) => docs.values.slice());
        return signal === undefined ? answer : abortable(answer, signal);
      }
      // Some ids are repeats, or answered elsewhere: positions by id.
      out ??= new Array<FrozenDocument | undefined>(ids.length).fill(undefined);
      const answer = out;
      const taken = elsewhere;
      own = loaded.then((docs) => {
        for (let i = 0; i < ids.length; i++)
          if (taken === undefined || !taken.has(i)) answer[i] = docs.get(ids[i] as string);
      });
    }
    const pending: Promise<unknown> | undefined =
      joined === undefined ? own : Promise.all(own === undefined ? joined : [own, ...joined]);
    if (pending !== undefined) await (signal === undefined ? pending : abortable(pending, signal));
    return out ?? new Array<FrozenDocument | undefined>(ids.length).fill(undefined);
  }

  /** After a create committed: clear older L2 data of the id (see WriteThrough.afterCreate), then drop L1's. */
  async afterCreate(row: StoredRow): Promise<void> {
    await this.#writes.afterCreate(row);
    await this.#lease?.voidLease(row.id);
    this.invalidateLocal(row.id);
    if (invalidateChannel.hasSubscribers) publishInvalidation(this.parts.document, row.id, "local", undefined);
  }

  /** After an update committed: write the new version through to L2, then drop the L1 entry. */
  async afterUpdate(row: StoredRow): Promise<void> {
    await this.#writes.afterUpdate(row);
    await this.#lease?.voidLease(row.id);
    this.invalidateLocal(row.id);
    if (invalidateChannel.hasSubscribers) publishInvalidation(this.parts.document, row.id, "local", undefined);
  }

  /** After a delete committed: tombstone the incarnation in L2, then drop the L1 entry. */
  async afterDelete(row: StoredRow): Promise<void> {
    await this.#writes.afterDelete(row);
    await this.#lease?.voidLease(row.id);
    this.invalidateLocal(row.id);
    if (invalidateChannel.hasSubscribers) publishInvalidation(this.parts.document, row.id, "local", undefined);
  }

  /**
   * Drops the L1 entry of `id`, voids any fill in flight for it, and detaches its read in flight, so that no read
   * starting from now joins a fetch that may predate the write (local writes and push invalidations).
   */
  invalidateLocal(id: string): void {
    this.#guard.invalidate(id);
    this.#flights.detach(id);
    this.#lease?.wake(id);
  }

  /** A push invalidation of `id` arrived (after invalidateLocal): noted for the lag sample of its next L2 read. */
  pushed(id: string): void {
    this.#lag.received(id, this.parts.clock.now());
  }

  /** Drops every L1 entry and voids every fill in flight (push channel lost, FLUSHALL). */
  flushLocal(): void {
    this.#guard.flush();
  }

  /** Opens or closes L1 filling (closed while push invalidation is disarmed). Closing also flushes. */
  setL1Open(open: boolean): void {
    this.#guard.setOpen(open);
  }

  /**
   * The runtime stops: L1 is flushed and closed, so a query port kept past stop() cannot answer from it (its reads
   * reach the stopped runtime and reject with STOPPED) and no read in flight can fill it.
   */
  stop(): void {
    this.#stopped = true;
    this.#guard.setOpen(false);
    this.#writes.stop();
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

  /** The single flight of one id (the caller registers it): the per-id steps with single-id I/O. */
  async #load(id: string, tail: FlightTail): Promise<FrozenDocument | undefined> {
    const token = this.#guard.begin(id);
    const trace = ReadTrace.begin(this.parts.document, id);
    const entries = this.parts.entries;
    const trusted = entries !== undefined && !this.#writes.isSuspect(id);
    const lease = trusted ? this.#lease : undefined;
    let decision: Decision = "fetch";
    let doc: FrozenDocument | undefined;
    let read: EntryRead | undefined;
    let readOk = false;
    let claim: Settled<EntryRead> | undefined;
    let hold: LeaseHold | undefined;
    if (trusted) {
      try {
        if (lease === undefined) read = await entries.read(id, this.#lifetimes.slideMs);
        else {
          const claimed = await lease.claim([id], this.#lifetimes.slideMs, true);
          hold = claimed.hold;
          claim = claimed.reads[0]!;
          read = claim.value;
        }
        readOk = true;
        trace?.callEnd("redis", "GET");
        this.parts.l2Health?.succeeded();
      } catch (error) {
        trace?.callEnd("redis", "GET", error);
        this.#l2Error("read", error);
      }
      if (claim?.state === "absent") {
        // Another process's holder just found no row (an absent marker): not found, without a read of our own.
        this.#guard.end(id, token);
        trace?.end("l2", "miss", false);
        return undefined;
      }
      if (read !== undefined) {
        if (this.#lag.pending && typeof read !== "string") this.#lag.read(id, read);
        doc = this.#decode(id, read);
        decision = this.#decide(doc, read, this.parts.clock.now());
      }
    }
    // An inline XFetch election under a lease is try-only: the loser serves the entry, still fresh.
    if (hold !== undefined && decision === "fallback" && claim?.state === "fresh") {
      if (!(await lease!.tryLease([id], hold))[0]) decision = "serve";
    }
    if (decision === "serve" || decision === "refresh") {
      if (hold !== undefined) lease!.release(hold);
      if (decision === "refresh") this.#refreshLater([id]);
      this.#guard.finish(id, token, doc!, this.#judge.l1Horizon(read as DocumentEntry));
      trace?.end("l2", "hit", true);
      return doc;
    }
    const fallback = decision === "fallback" ? { doc: doc!, entry: read as DocumentEntry } : undefined;
    if (claim?.timedOut === true && fallback !== undefined && this.#withinGrace(fallback.entry)) {
      // The holder never filled within maxWait: its grace data rather than one more Postgres read.
      lease!.counters.graceServes++;
      this.#guard.end(id, token);
      trace?.end("l2", "grace", true);
      return fallback.doc;
    }
    const started = this.parts.clock.now();
    let row: StoredRow | undefined;
    trace?.callStart();
    try {
      const get = () => this.parts.repository.get(this.parts.autocommit, id);
      row = await (hold === undefined || lease === undefined
        ? get()
        : hold.ids.size > 0
          ? lease.fetch(get)
          : claim?.timedOut === true
            ? lease.fallback(get, 1)
            : get());
      trace?.callEnd("postgres", "SELECT");
      this.parts.sourceHealth?.succeeded();
    } catch (error) {
      trace?.callEnd("postgres", "SELECT", error);
      if (hold !== undefined) lease!.release(hold);
      this.#guard.end(id, token);
      this.#pgFailed(error);
      return this.#fallBack(fallback, error, trace);
    }
    this.counters.fetches++;
    if (row === undefined) {
      if (hold !== undefined) lease!.releaseAbsent(hold, [id]); // its waiters learn it from the marker
      this.#guard.end(id, token);
      trace?.end("postgres", "miss", false);
      return undefined;
    }
    const fetched = documentFromRow(row, this.parts.codec);
    if (trusted && readOk) {
      const put = this.#fillFor(row, started);
      const freshUntil = this.#judge.l1Horizon(put.entry);
      // Sent after this turn, behind what the caller does next (see #sendFill). L1 after the fill, as when the read
      // waited for it: the fill's own push invalidation (BCAST reaches this replica too) then voids the token instead
      // of dropping an entry just cached.
      const fill = this.#sendFill(() => this.#fill([put], started, hold, trace));
      this.#leaveBehind(
        tail,
        fill.then(() => this.#guard.finish(id, token, fetched, freshUntil)),
      );
    } else this.#guard.finish(id, token, fetched, Number.POSITIVE_INFINITY);
    trace?.end("postgres", decision === "fallback" ? "stale" : "miss", true);
    return fetched;
  }

  /** One batch of unique ids not in flight: the same per-id steps, with one L2 round trip and one SQL query. */
  async #loadBatch(ids: ReadonlyArray<string>, deferred: Deferred | undefined, tail: FlightTail): Promise<BatchDocs> {
    const docs = new BatchDocs(ids);
    const tokens =
      this.parts.l1 === undefined ? undefined : ids.map((id) => deferred?.tokens?.get(id) ?? this.#guard.begin(id));
    const entries = this.parts.entries;
    /** Ids to read from Postgres, and which of those may be filled (their L2 read worked and they are not suspect). */
    const fetch: string[] = [];
    const fillable = new Set<string>();
    /** Until when L1 may hold each id that was found (see FreshnessJudge.l1Horizon). */
    const freshUntil = new Map<string, number>();
    let fallbacks: Map<string, Found> | undefined;
    let background: string[] | undefined;
    const observed = readChannel.hasSubscribers || callChannel.hasSubscribers;
    const batchTrace = ReadBatchTrace.begin(this.parts.document, ids.length);
    const startTime = batchTrace !== undefined ? batchTrace.startTime : observed ? wallNow() : 0;
    let pgFailed = false;
    const lease = this.#lease;
    let hold: LeaseHold | undefined;
    /** Leased ids whose holder never filled within maxWait (read here under the origin cap); XFetch-elected ids. */
    let timedOut = 0;
    let elected: string[] | undefined;
    /** Ids another process holds the lease of: waited for apart from this batch (see DocumentLease.claim). */
    let waiting: Set<string> | undefined;
    let later: Promise<BatchDocs> | undefined;
    if (entries === undefined) {
      fetch.push(...ids);
    } else {
      // Suspect ids (a write-through pending or given up on) are read from Postgres and never filled.
      const trusted = this.#writes.idle ? ids : ids.filter((id) => !this.#writes.isSuspect(id));
      let reads: EntryRead[] | undefined;
      const callStart = startTime; // the MGET starts as the batch does
      let claims: Array<Settled<EntryRead>> | undefined;
      try {
        if (lease === undefined) {
          reads = await entries.readMany(trusted, this.#lifetimes.slideMs);
          this.parts.l2Health?.succeeded();
        } else if (deferred !== undefined) {
          hold = deferred.hold;
          claims = trusted.map((id) => deferred.reads.get(id)!);
          reads = claims.map((claim) => claim.value);
        } else {
          const claimed = await lease.claim(trusted, this.#lifetimes.slideMs, false);
          hold = claimed.hold;
          claims = claimed.reads;
          reads = claims.map((claim) => claim.value);
          const held = trusted.filter((_, i) => claimed.reads[i]!.state === "held");
          if (held.length > 0) {
            waiting = new Set(held);
            later = this.#awaitHeld(lease, held, claimed.reads, trusted, ids, tokens, tail);
            later.catch(() => {}); // awaited below; handled even if this batch fails first
          }
        }
      } catch (error) {
        this.#l2Error("readMany", error);
        if (callChannel.hasSubscribers) {
          publishCall(this.parts.document, "redis", "MGET", callStart, error, undefined, batchTrace);
        }
      }
      if (reads !== undefined && callChannel.hasSubscribers) {
        publishCall(this.parts.document, "redis", "MGET", callStart, undefined, undefined, batchTrace);
      }
      const now = this.parts.clock.now(); // one clock read per batch, not per entry
      const parsed = reads === undefined ? undefined : parseBodies(reads); // one JSON.parse for the batch
      for (let i = 0; i < trusted.length; i++) {
        const id = trusted[i] as string;
        if (waiting?.has(id)) continue;
        if (claims?.[i]?.state === "absent") {
          docs.set(id, undefined); // a holder elsewhere just found no row
          continue;
        }
        const read = reads?.[i];
        if (this.#lag.pending && read !== undefined && typeof read !== "string") this.#lag.read(id, read);
        const doc = read === undefined ? undefined : this.#decode(id, read, parsed?.[i]);
        const decision = read === undefined ? "fetch" : this.#decide(doc, read, now);
        if (decision === "serve" || decision === "refresh") {
          if (trusted === ids)
            docs.values[i] = doc; // the warm path: by index
          else docs.set(id, doc);
          if (tokens !== undefined) freshUntil.set(id, this.#judge.l1Horizon(read as DocumentEntry));
          if (decision === "refresh") {
            if (background === undefined) background = [];
            background.push(id);
          }
          continue;
        }
        if (decision === "fallback") {
          if (fallbacks === undefined) fallbacks = new Map();
          fallbacks.set(id, { doc: doc!, entry: read as DocumentEntry });
        }
        const claim = claims?.[i];
        if (claim?.state === "fresh" && decision === "fallback") {
          // XFetch elected it inline: try-only lease below.
          if (elected === undefined) elected = [];
          elected.push(id);
          continue;
        }
        if (claim?.timedOut === true) {
          const found = fallbacks?.get(id);
          if (found !== undefined && this.#withinGrace(found.entry)) {
            lease!.counters.graceServes++;
            docs.set(id, found.doc);
            continue;
          }
          timedOut++;
        }
        fetch.push(id);
        if (reads !== undefined) fillable.add(id);
      }
      if (elected !== undefined) {
        const won = await lease!.tryLease(elected, hold!);
        elected.forEach((id, j) => {
          if (won[j]) {
            fetch.push(id);
            fillable.add(id);
          } else {
            const found = fallbacks!.get(id)!;
            docs.set(id, found.doc);
            if (tokens !== undefined) freshUntil.set(id, this.#judge.l1Horizon(found.entry));
          }
        });
      }
      if (trusted !== ids) for (const id of ids) if (!trusted.includes(id)) fetch.push(id);
    }
    if (background !== undefined) this.#refreshLater(background);

    let filling: Promise<unknown> | undefined;
    /** Set once Postgres answered for `fetch`: ids it lacks are absent. */
    let rows: StoredRow[] | undefined;
    if (fetch.length > 0) {
      const started = this.parts.clock.now();
      const callStart = observed ? wallNow() : 0;
      try {
        const load = () => this.parts.repository.getMany(this.parts.autocommit, fetch);
        if (lease === undefined || hold === undefined) rows = await load();
        else if (hold.ids.size > 0) {
          if (timedOut > 0) lease.counters.fallbacks += timedOut; // they ride on this holder's query
          rows = await lease.fetch(load);
        } else rows = await (timedOut > 0 ? lease.fallback(load, timedOut) : load());
        this.parts.sourceHealth?.succeeded();
        if (callChannel.hasSubscribers) {
          publishCall(this.parts.document, "postgres", "SELECT", callStart, undefined, undefined, batchTrace);
        }
      } catch (error) {
        if (hold !== undefined) lease!.release(hold);
        pgFailed = true;
        this.#pgFailed(error);
        if (callChannel.hasSubscribers) {
          publishCall(this.parts.document, "postgres", "SELECT", callStart, error, undefined, batchTrace);
        }
        // Every id needs a usable fallback, or the whole batch fails like the query did (releasing its fill tokens).
        try {
          for (const id of fetch) docs.set(id, this.#fallBack(fallbacks?.get(id), error));
        } catch (failure) {
          if (tokens !== undefined) for (let i = 0; i < ids.length; i++) this.#guard.end(ids[i]!, tokens[i]!);
          batchTrace?.end(fetch.length, true);
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
            const put = this.#fillFor(row, started);
            freshUntil.set(id, this.#judge.l1Horizon(put.entry));
            puts.push(put);
          }
        }
        if (puts.length > 0) filling = this.#sendFill(() => this.#fill(puts, started, hold, batchTrace)); // as in #load
      }
    }
    if (hold !== undefined) {
      // Leased ids without a row become absent markers (their waiters skip the read); the others, unfilled, go back —
      // after the fill, whose leased puts need the hold current.
      const held = hold;
      const absent = rows === undefined ? [] : fetch.filter((id) => docs.get(id) === undefined);
      if (filling === undefined) lease!.releaseAbsent(held, absent);
      else filling = filling.then(() => lease!.releaseAbsent(held, absent));
    }
    if (tokens !== undefined) {
      const finishL1 = () => {
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i] as string;
          if (waiting?.has(id)) continue; // its L1 token passed to the deferred load
          const doc = docs.values[i];
          if (doc === undefined) this.#guard.end(id, tokens[i] as number);
          else this.#guard.finish(id, tokens[i] as number, doc, freshUntil.get(id) ?? Number.POSITIVE_INFINITY);
        }
      };
      // After the fill, as in #load (its own push invalidations void tokens rather than drop fresh entries).
      if (filling === undefined) finishL1();
      else filling = filling.then(finishL1);
    }
    if (filling !== undefined) this.#leaveBehind(tail, filling);
    if (readChannel.hasSubscribers) {
      publishBatchReads(
        this.parts.document,
        ids,
        (id) => docs.get(id) !== undefined,
        fetch,
        fallbacks,
        pgFailed,
        startTime,
      );
    }
    batchTrace?.end(fetch.length, false);
    if (later !== undefined) {
      const held = await later;
      for (let j = 0; j < held.ids.length; j++) docs.set(held.ids[j] as string, held.values[j]);
    }
    return docs;
  }

  /** Waits for a batch's ids leased by others, then loads them with the reads the wait ended on. */
  async #awaitHeld(
    lease: DocumentLease,
    held: ReadonlyArray<string>,
    claims: ReadonlyArray<Settled<EntryRead>>,
    trusted: ReadonlyArray<string>,
    ids: ReadonlyArray<string>,
    tokens: ReadonlyArray<number> | undefined,
    tail: FlightTail,
  ): Promise<BatchDocs> {
    const waiting = new Set(held);
    const hold = lease.newHold(); // its own token: the batch releases its leases when it ends, maybe first
    const settled = await lease.settle(
      held,
      trusted.flatMap((id, i) => (waiting.has(id) ? [claims[i]!] : [])),
      hold,
      this.#lifetimes.slideMs,
    );
    const reads = new Map(held.map((id, i) => [id, settled[i]!]));
    const heldTokens = tokens === undefined ? undefined : new Map<string, number>();
    if (heldTokens !== undefined) {
      for (let i = 0; i < ids.length; i++) if (waiting.has(ids[i]!)) heldTokens.set(ids[i]!, tokens![i]!);
    }
    return this.#loadBatch(held, { hold, reads, tokens: heldTokens }, tail);
  }

  /**
   * The per-id decision step: what one L2 read (and `doc`, its decoded document: see #decode) means for its id.
   * Verdicts are counted by the judge: hit, miss, stale, corrupt, elected.
   */
  #decide(doc: FrozenDocument | undefined, read: EntryRead, now: number): Decision {
    if (doc === undefined) return "fetch";
    switch (this.#judge.judge(read as DocumentEntry, now)) {
      case "hit":
        return "serve";
      case "background":
        return "refresh";
      case "foreign":
        return "fetch";
      default:
        return "fallback"; // stale, or elected to refresh inline: refetch, keeping the entry for stale-if-error
    }
  }

  /**
   * A read's fill, started after this turn (afterTurn: the caller's next commands reach the connection first), or at
   * once when L2 lives in this process (DocumentEntryStore.inProcess: no connection, and a caller looping in
   * microtasks would starve a fill left for the next turn, its flight and every read joining it open until then).
   */
  #sendFill<T>(send: () => Promise<T>): Promise<T> {
    return this.parts.entries?.inProcess === true ? send() : afterTurn(send);
  }

  /** The fenced fill of a version just read from Postgres by a fetch that began at `started`. */
  #fillFor(row: StoredRow, started: number): EntryPut {
    const entry = this.#lifetimes.entryFor(row, started);
    return { id: row.id, entry, ttlMs: this.#lifetimes.physicalTtl(entry) };
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
    let hold: LeaseHold | undefined;
    if (this.#lease !== undefined) {
      // Try-only: one early refresher across every process; the others keep serving the entry.
      hold = this.#lease.newHold();
      const won = await this.#lease.tryLease(ids, hold);
      ids = ids.filter((_, i) => won[i]);
      if (ids.length === 0) return;
    }
    const started = this.parts.clock.now();
    let rows: StoredRow[];
    try {
      const load = () => this.parts.repository.getMany(this.parts.autocommit, ids);
      rows = await (hold === undefined ? load() : this.#lease!.fetch(load));
    } catch (error) {
      if (hold !== undefined) this.#lease!.release(hold);
      throw error;
    }
    this.counters.batchFetches++;
    const puts = rows.map((row) => this.#fillFor(row, started));
    if (puts.length > 0 && !(await this.#fill(puts, started, hold))) throw new Error("refresh fill failed");
    if (hold !== undefined) this.#lease!.release(hold);
    const l1 = this.parts.l1;
    if (l1 !== undefined) {
      for (const row of rows) {
        const cached = l1.peek === undefined ? l1.get(row.id) : l1.peek(row.id);
        if (cached !== undefined && cached.rev !== row.rev) this.invalidateLocal(row.id);
      }
    }
  }

  /**
   * Fenced fills; counts the outcome. False when the store failed. Ids leased in `hold` are filled under their lease
   * (lease-script.ts); any lease of `hold` left unfilled is released. `trace`: the read or batch the fill's Redis
   * call belongs to (observability).
   */
  async #fill(
    puts: EntryPut[],
    started: number,
    hold?: LeaseHold,
    trace?: ReadTrace | ReadBatchTrace,
  ): Promise<boolean> {
    if (hold === undefined || hold.ids.size === 0) return this.#putFenced(puts, started, undefined, trace);
    try {
      return await this.#putFenced(puts, started, hold, trace);
    } finally {
      this.#lease?.release(hold);
    }
  }

  async #putFenced(
    puts: EntryPut[],
    started: number,
    hold: LeaseHold | undefined,
    trace?: ReadTrace | ReadBatchTrace,
  ): Promise<boolean> {
    const entries = this.parts.entries;
    if (entries === undefined) return true;
    if (this.#lifetimes.fillIsTooOld(started)) {
      this.counters.fillsFailed += puts.length;
      if (fillChannel.hasSubscribers) for (const put of puts) publishFill(this.parts.document, put.id, "too-old");
      return false;
    }
    const max = this.parts.maxBodyBytes;
    const fitting = max === undefined ? puts : puts.filter((put) => fitsIn(put.entry.body, max));
    if (fitting.length < puts.length) {
      this.counters.tooLarge += puts.length - fitting.length;
      if (fillChannel.hasSubscribers) this.#publishTooLarge(puts, fitting);
      puts = fitting;
      if (puts.length === 0) return true;
    }
    const slideMs = this.#lifetimes.slideMs;
    const callStart = callChannel.hasSubscribers ? wallNow() : 0;
    try {
      if (hold !== undefined && this.#lease !== undefined) {
        const leased = puts.filter((put) => hold.ids.has(put.id));
        const plain = puts.filter((put) => !hold.ids.has(put.id));
        const [stored, filled] = await Promise.all([
          plain.length === 0 ? [] : entries.putMany(plain, slideMs),
          this.#lease.fill(leased, hold, slideMs),
        ]);
        for (const result of [...stored, ...filled]) {
          if (result === "stored") this.counters.fills++;
          else this.counters.fillsRejected++;
        }
        return true;
      }
      const results =
        puts.length === 1
          ? [await entries.put(puts[0]!.id, puts[0]!.entry, puts[0]!.ttlMs, slideMs)]
          : await entries.putMany(puts, slideMs);
      for (const result of results) {
        if (result === "stored") this.counters.fills++;
        else this.counters.fillsRejected++;
      }
      if (callChannel.hasSubscribers) this.#publishFillCall(callStart, undefined, trace);
      if (fillChannel.hasSubscribers)
        for (const [i, put] of puts.entries()) publishFill(this.parts.document, put.id, results[i]!);
      return true;
    } catch (error) {
      this.counters.fillsFailed += puts.length;
      if (callChannel.hasSubscribers) this.#publishFillCall(callStart, error, trace);
      if (fillChannel.hasSubscribers) for (const put of puts) publishFill(this.parts.document, put.id, "failed");
      this.#l2Error("fill", error);
      return false;
    }
  }

  /**
   * A read answers without waiting for its fill: the fill runs on (tracked for runtime.stop()), and the read's flight
   * stays joinable until it settles (see PendingFills, FlightTail).
   */
  #leaveBehind(tail: FlightTail, fill: Promise<unknown>): void {
    const tracked = this.#fills.track(fill);
    tail.until = tail.until === undefined ? tracked : Promise.all([tail.until, tracked]);
  }

  #publishFillCall(callStart: number, error: unknown, trace: ReadTrace | ReadBatchTrace | undefined): void {
    const read = trace instanceof ReadTrace ? trace : undefined;
    const batch = trace instanceof ReadBatchTrace ? trace : undefined;
    publishCall(this.parts.document, "redis", "EVALSHA", callStart, error, read, batch);
  }

  /** Whether a stale entry may still be served (within grace). */
  #withinGrace(entry: DocumentEntry): boolean {
    return entry.freshUntil + this.#lifetimes.graceMs > this.parts.clock.now();
  }

  /** Postgres failed: serve the fallback if it is fresh, or stale within grace; otherwise rethrow. */
  #fallBack(fallback: Found | undefined, error: unknown, trace?: ReadTrace): FrozenDocument {
    if (fallback !== undefined) {
      const now = this.parts.clock.now();
      if (fallback.entry.freshUntil > now) {
        this.counters.refreshFailures++;
        trace?.end("l2", "hit", true);
        return fallback.doc;
      }
      if (fallback.entry.freshUntil + this.#lifetimes.graceMs > now) {
        this.counters.staleServes++;
        trace?.end("l2", "grace", true);
        this.parts.logger.debug("Postgres failed; served a stale entry within grace", {
          document: this.parts.document,
          error: error instanceof Error ? error.message : String(error),
        });
        return fallback.doc;
      }
    }
    trace?.end(undefined, "error", false);
    throw error;
  }

  /** A Postgres read failed: health, and the absorbed-error event (whether or not a fallback answers). */
  #pgFailed(error: unknown): void {
    this.parts.sourceHealth?.failed(`read failed: ${error instanceof Error ? error.message : String(error)}`);
    if (errorChannel.hasSubscribers) publishAbsorbed(this.parts.document, "postgres", "read", error);
  }

  #publishTooLarge(puts: ReadonlyArray<EntryPut>, fitting: ReadonlyArray<EntryPut>): void {
    for (const put of puts) if (!fitting.includes(put)) publishFill(this.parts.document, put.id, "too-large");
  }

  /**
   * The document in an L2 read when it decodes; counts misses and corrupt entries. `parsed`: the read's body already
   * parsed (see parseBodies), else it is parsed here.
   */
  #decode(id: string, read: EntryRead, parsed?: unknown): FrozenDocument | undefined {
    if (typeof read === "string") {
      if (read === "corrupt") this.counters.l2Corrupt++;
      this.counters.l2Misses++;
      return undefined;
    }
    const doc =
      parsed === undefined
        ? decodeBody(read.body, id, read.rev, this.parts.codec)
        : decodeParsed(parsed, id, read.rev, this.parts.codec);
    if (doc === undefined) {
      this.counters.l2Corrupt++;
      this.counters.l2Misses++;
    }
    return doc;
  }

  #l2Error(operation: string, error: unknown): void {
    this.counters.l2Errors++;
    if (this.#stopped) return;
    const message = error instanceof Error ? error.message : String(error);
    this.parts.l2Health?.failed(`${operation} failed: ${message}`);
    if (errorChannel.hasSubscribers) publishAbsorbed(this.parts.document, "redis", operation, error);
    this.#degraded.warn("l2", "L2 call failed; served from Postgres", {
      document: this.parts.document,
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

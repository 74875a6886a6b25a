import type { Clock } from "../kernel/clock.js";
import type { EntryPut, EntryRead } from "../l2/document-entry.js";
import type { EntryLeases, LeasedPutResult } from "../l2/entry-lease.js";
import type { LeaseSpec } from "../spec/document-spec.js";
import { type Claim, FillLease, type LeaseTimers, realTimers, type Settled } from "./fill-lease.js";
import type { LeaseCounters } from "./lease-stats.js";

/**
 * The leases one holder took in one lookup: its token, and the ids it still has to fill or release (renewed until
 * then: see FillLease.keepAlive).
 */
export interface LeaseHold {
  readonly token: string;
  readonly ids: Set<string>;
  /** Stops the renewals; set while `ids` is not empty. */
  stop?: (() => void) | undefined;
}

/**
 * The fill lease of one document's L2 entries: FillLease's protocol over the backend's EntryLeases. Failures of
 * anything but the first lookup are absorbed (reported through `onError`): a lease never turns a Redis fault into a
 * failed read.
 */
export class DocumentLease {
  readonly #protocol: FillLease<EntryRead>;
  /** The document's sliding window (constant per document: the batched re-claims use the last one seen). */
  #slideMs = 0;

  constructor(
    private readonly leases: EntryLeases,
    spec: LeaseSpec,
    pushed: boolean,
    private readonly clock: Clock,
    private readonly onError: (operation: string, error: unknown) => void,
    timers: LeaseTimers = realTimers,
    /** The document's name, for lease events. */
    document = "",
  ) {
    this.#protocol = new FillLease<EntryRead>(spec, pushed, timers, async (ids, tokens) => {
      const replies = await this.leases.readOrLease(ids, tokens, this.#protocol.leaseMs, clock.now(), this.#slideMs);
      return replies.map((reply) => ({ value: reply.read, state: reply.state }));
    });
    this.#protocol.events = { document, source: "document" };
  }

  get counters(): LeaseCounters {
    return this.#protocol.counters;
  }

  /**
   * The entries of `ids` and, where they are not fresh, a lease for one new token (`hold.ids` receives the ids
   * leased) or, where another token holds it, state `held`. With `wait`, held ids are waited for (FillLease.settle)
   * before returning; a batch waits separately (`settle`), so that its own leases are filled meanwhile — two
   * processes each holding what the other waits for would otherwise both wait out maxWait. Rejects only when the
   * first lookup fails.
   */
  async claim(
    ids: ReadonlyArray<string>,
    slideMs: number,
    wait: boolean,
  ): Promise<{ hold: LeaseHold; reads: Settled<EntryRead>[] }> {
    const hold: LeaseHold = { token: this.#protocol.token(), ids: new Set() };
    const first = await this.#lookup(ids, hold, slideMs);
    const reads = wait
      ? await this.settle(ids, first, hold, slideMs)
      : first.map((claim) => ({ ...claim, timedOut: false }));
    if (!wait) this.#protocol.counted(ids, first);
    return { hold, reads };
  }

  /** Waits for the ids held by others (FillLease.settle), re-claiming them for `hold`'s token. */
  async settle(
    ids: ReadonlyArray<string>,
    claims: ReadonlyArray<Claim<EntryRead>>,
    hold: LeaseHold,
    slideMs: number,
  ): Promise<Settled<EntryRead>[]> {
    this.#slideMs = slideMs;
    const reads = await this.#protocol.settle(
      ids,
      claims,
      ids.map(() => hold.token),
    );
    reads.forEach((read, i) => {
      if (read.state === "granted") this.#held(hold, ids[i]!);
    });
    return reads;
  }

  /** `id` joins `hold`, whose leases are renewed from now until they are filled or released. */
  #held(hold: LeaseHold, id: string): void {
    hold.ids.add(id);
    if (hold.stop === undefined) {
      hold.stop = this.#protocol.keepAlive(hold.ids, (key, ms) => this.leases.renew(key, hold.token, ms));
    }
  }

  /** Stops renewing once `hold` has nothing left to fill. */
  #settled(hold: LeaseHold): void {
    if (hold.ids.size > 0 || hold.stop === undefined) return;
    hold.stop();
    hold.stop = undefined;
  }

  async #lookup(ids: ReadonlyArray<string>, hold: LeaseHold, slideMs: number): Promise<Claim<EntryRead>[]> {
    this.#slideMs = slideMs;
    const replies = await this.leases.readOrLease(ids, hold.token, this.#protocol.leaseMs, this.clock.now(), slideMs);
    return replies.map((reply, i) => {
      if (reply.state === "granted") this.#held(hold, ids[i]!);
      return { value: reply.read, state: reply.state };
    });
  }

  /** Try-only leases (XFetch early refresh): the ids won join `hold`; a Redis failure wins none. */
  async tryLease(ids: ReadonlyArray<string>, hold: LeaseHold): Promise<boolean[]> {
    try {
      const won = await this.leases.tryLease(ids, hold.token, this.#protocol.leaseMs);
      won.forEach((taken, i) => {
        if (taken) this.#held(hold, ids[i]!);
      });
      const takenIds = ids.filter((_, i) => won[i]);
      const taken = takenIds.length;
      this.#protocol.took(takenIds);
      this.counters.refreshesSkipped += won.length - taken;
      return won;
    } catch (error) {
      this.onError("try lease", error);
      return ids.map(() => false);
    }
  }

  /** A fresh hold, for leases taken try-only outside a claim. */
  newHold(): LeaseHold {
    return { token: this.#protocol.token(), ids: new Set() };
  }

  /** The holder's Postgres read (its leases are renewed meanwhile: #held), timed for the life of later leases. */
  fetch<T>(fetch: () => Promise<T>): Promise<T> {
    return this.#protocol.timed(fetch);
  }

  /** A timed-out waiter's own Postgres read (`count` ids), under the per-process cap. */
  fallback<T>(fetch: () => Promise<T>, count: number): Promise<T> {
    return this.#protocol.fallback(fetch, count);
  }

  /** Leased fills of ids in `hold` (they leave it); a lost lease is counted. */
  async fill(puts: ReadonlyArray<EntryPut>, hold: LeaseHold, slideMs: number): Promise<LeasedPutResult[]> {
    for (const put of puts) hold.ids.delete(put.id);
    this.#settled(hold);
    const results = await this.leases.fill(puts, hold.token, slideMs);
    for (const result of results) if (result === "lost") this.counters.lost++;
    return results;
  }

  /** Drops the leases `hold` still has (no fill follows), without waiting; a failure only lets them expire. */
  release(hold: LeaseHold): void {
    if (hold.ids.size === 0) return;
    const ids = [...hold.ids];
    hold.ids.clear();
    this.#settled(hold);
    this.leases.release(ids, hold.token).catch((error: unknown) => this.onError("release lease", error));
  }

  /**
   * The ids of `hold` whose row the holder found absent: their leases become absent markers for one lease life, so
   * the waiters learn it without a Postgres read each; the rest of `hold` is released. Without waiting.
   */
  releaseAbsent(hold: LeaseHold, absent: ReadonlyArray<string>): void {
    const marked = absent.filter((id) => hold.ids.has(id));
    for (const id of marked) hold.ids.delete(id);
    this.#settled(hold);
    this.release(hold);
    if (marked.length === 0) return;
    this.leases
      .markAbsent(marked, hold.token, this.#protocol.leaseMs)
      .catch((error: unknown) => this.onError("mark absent", error));
  }

  /** After a write committed: void any lease on the id so the next reader leases (and reads the write) at once. */
  async voidLease(id: string): Promise<void> {
    try {
      await this.leases.voidLease(id);
    } catch (error) {
      this.onError("void lease", error);
    }
  }

  /** Push invalidation (or a local write) of `id`: its waiters look again now. */
  wake(id: string): void {
    this.#protocol.wake(id);
  }
}

import type { LeaseState } from "../l2/entry-lease.js";
import type { KeyValueLeases } from "../l2/key-value-lease.js";
import type { EntryWrite, StoredEntry } from "../l2/key-value-store.js";
import { FillLease, type LeaseTimers, realTimers, type Settled } from "../read-through/fill-lease.js";
import type { LeaseCounters } from "../read-through/lease-stats.js";
import type { LeaseSpec } from "../spec/document-spec.js";

/** A leased read of one key: the entry found, the lease state, and the token it was (or would be) granted to. */
export interface KvClaim {
  readonly entry: StoredEntry | undefined;
  readonly state: LeaseState;
  readonly token: string;
}

/**
 * The fill lease of one key/value cache (`getOrSet` with `lease`): FillLease's protocol — tokens, waits bounded by
 * `maxWait` and woken by push, renewal while the loader runs, the cap on timed-out waiters' own loads — over the
 * store's KeyValueLeases. Only the first read may reject (the caller then reads unleased); every later failure is
 * absorbed through `onError`, so a lease never turns a Redis fault into a failed getOrSet.
 */
export class KvLease {
  readonly #protocol: FillLease<KvClaim>;
  /** Whether a call used the lease yet (stats() shows lease counters from then on, or when the route asks). */
  used: boolean;

  constructor(
    private readonly leases: KeyValueLeases,
    readonly spec: LeaseSpec,
    /** Whether getOrSet leases when the call does not say (the route's `lease`). */
    readonly byDefault: boolean,
    pushed: boolean,
    private readonly onError: (operation: string, error: unknown) => void,
    /** The cache's clock (entries' freshness is judged in its epoch ms). */
    now: () => number,
    /** The cache's name, for lease events. */
    name: string,
    timers: LeaseTimers = realTimers,
  ) {
    this.#protocol = new FillLease<KvClaim>(spec, pushed, timers, async (keys, tokens) => {
      const reads = await this.leases.readOrLease(keys, tokens, this.#protocol.leaseMs, now());
      return reads.map((read, i) => ({ value: { ...read, token: tokens[i]! }, state: read.state }));
    });
    this.#protocol.events = { document: name, source: "cache" };
    this.used = byDefault;
  }

  get counters(): LeaseCounters {
    return this.#protocol.counters;
  }

  /** The entry of `key`, or a lease on it for a fresh token when it is not fresh. Rejects when the store fails. */
  async claim(key: string, now: number): Promise<KvClaim> {
    this.used = true;
    const token = this.#protocol.token();
    const [read] = await this.leases.readOrLease([key], [token], this.#protocol.leaseMs, now);
    if (read!.state === "granted") this.#protocol.took([key]);
    return { entry: read!.entry, state: read!.state, token };
  }

  /** Waits for another holder's fill of `key` (FillLease.settle): the entry then, a lease, or timed out. */
  async settle(key: string, claim: KvClaim, maxWaitMs: number): Promise<Settled<KvClaim>> {
    const [settled] = await this.#protocol.settle([key], [{ value: claim, state: "held" }], [claim.token], maxWaitMs);
    return settled!;
  }

  /** Renews the holder's lease until the returned function is called (its fill, or its release). */
  keepAlive(key: string, token: string): () => void {
    return this.#protocol.keepAlive(new Set([key]), (k, ms) => this.leases.renew(k, token, ms));
  }

  /** The holder's loader, timed for the life of later leases. */
  load<T>(loader: () => Promise<T>): Promise<T> {
    return this.#protocol.timed(loader);
  }

  /** A timed-out waiter's own loader run, under the per-process cap. */
  fallback<T>(loader: () => Promise<T>): Promise<T> {
    return this.#protocol.fallback(loader, 1);
  }

  /** The holder's fill; "lost" (counted) when a write voided the lease or it expired. Rejects on a store failure. */
  async fill(entry: EntryWrite, token: string): Promise<"stored" | "lost"> {
    const result = await this.leases.fill(entry, token);
    if (result === "lost") this.counters.lost++;
    return result;
  }

  /** Drops the holder's lease (no fill follows), without waiting; a failure only lets it expire. */
  release(key: string, token: string): void {
    this.leases.release(key, token).catch((error: unknown) => this.onError("release lease", error));
  }

  /** The holder's loader returned nothing to cache: its waiters read "absent" for one lease life, not load again. */
  markAbsent(key: string, token: string): void {
    this.leases
      .markAbsent(key, token, this.#protocol.leaseMs)
      .catch((error: unknown) => this.onError("mark absent", error));
  }

  /** A try-only lease (early refresh); false when someone holds it (counted as skipped) or the store failed. */
  async tryLease(key: string, token: string): Promise<boolean> {
    this.used = true;
    try {
      const won = await this.leases.tryLease(key, token, this.#protocol.leaseMs);
      if (won) this.#protocol.took([key]);
      else this.counters.refreshesSkipped++;
      return won;
    } catch (error) {
      this.onError("try lease", error);
      return false;
    }
  }

  token(): string {
    return this.#protocol.token();
  }

  /** `key` changed (a local write, or a push invalidation): its waiters look again now. */
  wake(key: string): void {
    this.#protocol.wake(key);
  }

  /** Any key may have changed (a clear, a tag invalidation, a flush). */
  wakeAll(): void {
    this.#protocol.wakeAll();
  }
}

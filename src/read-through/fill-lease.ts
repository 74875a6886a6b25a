import { randomBytes } from "node:crypto";
import type { LeaseState } from "../l2/entry-lease.js";
import type { LeaseSpec } from "../spec/document-spec.js";
import { LeaseCounters } from "./lease-stats.js";
import { LeaseTtl } from "./lease-ttl.js";
import { OriginCap } from "./origin-cap.js";

/** What one lease-taking lookup found for one key: a value of the caller's kind, and the lease state. */
export interface Claim<V> {
  readonly value: V;
  readonly state: LeaseState;
}

/** A claim after waiting: `timedOut` when another holder's lease was still on at `maxWait` (or Redis failed). */
export interface Settled<V> extends Claim<V> {
  readonly timedOut: boolean;
}

/** Real time for waits and lease lives (Redis expires leases in real time); injectable for unit tests. */
export interface LeaseTimers {
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after `ms`, or earlier when `wake` is called. */
  sleep(ms: number, wake: (resolve: () => void) => void): Promise<void>;
  random(): number;
}

export const realTimers: LeaseTimers = {
  now: () => performance.now(),
  sleep: (ms, wake) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake(() => {
        clearTimeout(timer);
        resolve();
      });
    }),
  random: Math.random,
};

/** Polling backoff of waiters: 10 ms doubling to 50 ms (jittered); to 200 ms when push invalidation wakes them. */
const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 50;
const POLL_MAX_PUSHED_MS = 200;
/** The longest a holder keeps renewing: past it its leases lapse, whatever it is doing. */
const MAX_HOLD_MS = 60_000;
/** Timed-out waiters' own Postgres reads per process and document. */
const ORIGIN_CAP = 4;

/** A process-unique token prefix: tokens of two processes never collide. */
const PROCESS_TAG = randomBytes(6).toString("hex");
let sequence = 0;

/**
 * The fill-lease protocol, independent of what is leased (document entries here; key/value entries can reuse it):
 * tokens, the lease life (lease-ttl.ts), the wait for another holder's fill — woken at once by a push invalidation
 * of the key (`wake`), else by polling with backoff, bounded by `maxWait` — the holder's renewal while its fetch runs,
 * and the cap on timed-out waiters' own reads. The lease is an efficiency device only: the version fences decide
 * what is stored, and every path ends within `maxWait` plus one fetch even when the holder died or Redis failed.
 */
export class FillLease {
  readonly counters = new LeaseCounters();
  readonly #ttl: LeaseTtl;
  readonly #cap = new OriginCap(ORIGIN_CAP);
  /** Wake-ups of the waits in flight, per key. */
  readonly #waiting = new Map<string, Set<() => void>>();
  readonly #pollMaxMs: number;

  constructor(
    readonly spec: LeaseSpec,
    /** Whether push invalidation wakes waiters (then polling is only a slow safety net). */
    pushed: boolean,
    private readonly timers: LeaseTimers = realTimers,
  ) {
    this.#ttl = new LeaseTtl(spec.ttlMs);
    this.#pollMaxMs = pushed ? POLL_MAX_PUSHED_MS : POLL_MAX_MS;
  }

  /** A fresh token (one per lookup: a batch shares it across its keys). */
  token(): string {
    return `${PROCESS_TAG}:${(++sequence).toString(36)}`;
  }

  /** The life to give a lease taken now. */
  get leaseMs(): number {
    return this.#ttl.ms;
  }

  /**
   * Waits for the keys whose claim is `held` by another token: re-claims them (`reclaim`, one call for all still
   * waiting) whenever a key is woken or a poll is due, until none is held or `maxWait` passed. A re-claim may grant
   * the lease to this caller (the holder released it or died). A failing `reclaim` ends the wait (timed out).
   * `maxWaitMs`: this wait's bound, when not the spec's (a per-call option).
   */
  async settle<V>(
    keys: ReadonlyArray<string>,
    claims: ReadonlyArray<Claim<V>>,
    reclaim: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<Claim<V>>>,
    maxWaitMs = this.spec.maxWaitMs,
  ): Promise<Array<Settled<V>>> {
    const out: Array<Settled<V>> = claims.map((claim) => ({ ...claim, timedOut: false }));
    this.counted(claims);
    let pending: number[] = [];
    for (let i = 0; i < claims.length; i++) if (claims[i]!.state === "held") pending.push(i);
    if (pending.length === 0) return out;
    this.counters.waits += pending.length;
    const start = this.timers.now();
    const deadline = start + maxWaitMs;
    let delay = POLL_FIRST_MS;
    while (pending.length > 0) {
      const remaining = deadline - this.timers.now();
      if (remaining <= 0) break;
      await this.#sleep(
        pending.map((i) => keys[i]!),
        Math.min(remaining, delay * (0.5 + this.timers.random())),
      );
      delay = Math.min(delay * 2, this.#pollMaxMs);
      let replies: ReadonlyArray<Claim<V>>;
      try {
        replies = await reclaim(pending.map((i) => keys[i]!));
      } catch {
        break;
      }
      const still: number[] = [];
      pending.forEach((index, j) => {
        const reply = replies[j]!;
        out[index] = { ...reply, timedOut: false };
        if (reply.state === "held") still.push(index);
        else if (reply.state === "granted") this.counters.granted++;
      });
      pending = still;
    }
    for (const i of pending) out[i] = { ...out[i]!, state: "held", timedOut: true };
    this.counters.holderTimeouts += pending.length;
    this.counters.waitMs += this.timers.now() - start;
    return out;
  }

  /** Counts the leases granted in a lookup that is not waited on (`settle` counts its own). */
  counted(claims: ReadonlyArray<Claim<unknown>>): void {
    for (const claim of claims) if (claim.state === "granted") this.counters.granted++;
  }

  /** Counts a lease taken outside `settle` (try-only). */
  took(count: number): void {
    this.counters.granted += count;
  }

  /**
   * The holder's fetch: renews its leases (`renew`, per key) while `fetch` runs (see keepAlive), and records how long
   * the fetch took for the next leases' life.
   */
  async hold<T>(
    keys: ReadonlyArray<string>,
    renew: (key: string, leaseMs: number) => Promise<boolean>,
    fetch: () => Promise<T>,
  ): Promise<T> {
    const live = new Set(keys);
    const stop = this.keepAlive(live, renew);
    try {
      return await this.timed(fetch);
    } finally {
      stop();
    }
  }

  /**
   * Renews the leases of the keys in `live` every third of a lease's life until the returned function is called; a
   * renewal that fails or finds the lease gone drops its key from `live`, and the fill of that key will then be
   * refused as lost, which the fences make harmless. A holder calls it from the moment it is granted a lease until
   * its fill, so that a process stalled between the two (a busy event loop, a loaded machine) keeps its lease.
   */
  keepAlive(live: Set<string>, renew: (key: string, leaseMs: number) => Promise<boolean>): () => void {
    const leaseMs = this.leaseMs;
    const until = this.timers.now() + MAX_HOLD_MS;
    const timer = setInterval(
      () => {
        // A holder that never filled nor released (a bug, a fetch hung past every timeout) lets its leases lapse.
        if (this.timers.now() > until) return clearInterval(timer);
        for (const key of live) {
          renew(key, leaseMs).then(
            (held) => {
              if (!held) live.delete(key);
            },
            () => live.delete(key),
          );
        }
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Runs the holder's fetch, recording how long it took (the life of later leases follows it). */
  async timed<T>(fetch: () => Promise<T>): Promise<T> {
    const start = this.timers.now();
    const value = await fetch();
    this.#ttl.observe(this.timers.now() - start);
    return value;
  }

  /** A timed-out waiter's own read, under the per-process cap. */
  fallback<T>(fetch: () => Promise<T>, count: number): Promise<T> {
    this.counters.fallbacks += count;
    return this.#cap.run(fetch);
  }

  /** The key changed or was filled (a push invalidation, or a local write): its waiters re-claim at once. */
  wake(key: string): void {
    const wakers = this.#waiting.get(key);
    if (wakers === undefined) return;
    this.#waiting.delete(key);
    for (const wake of wakers) wake();
  }

  /** Every key may have changed (a clear, a flush, a lost channel): every waiter re-claims at once. */
  wakeAll(): void {
    for (const key of [...this.#waiting.keys()]) this.wake(key);
  }

  #sleep(keys: ReadonlyArray<string>, ms: number): Promise<void> {
    let registered: (() => void) | undefined;
    const done = this.timers.sleep(ms, (resolve) => {
      registered = resolve;
      for (const key of keys) {
        let set = this.#waiting.get(key);
        if (set === undefined) {
          set = new Set();
          this.#waiting.set(key, set);
        }
        set.add(resolve);
      }
    });
    return done.finally(() => {
      if (registered === undefined) return;
      for (const key of keys) {
        const set = this.#waiting.get(key);
        set?.delete(registered);
        if (set?.size === 0) this.#waiting.delete(key);
      }
    });
  }
}

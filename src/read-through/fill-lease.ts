import { randomBytes } from "node:crypto";
import type { LeaseState } from "../l2/entry-lease.js";
import { leaseChannel } from "../observability/event-channels.js";
import { publishLease } from "../observability/publish.js";
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

/**
 * The batched re-claim of one lease user: per key, the claim that looking again (and leasing for `tokens[i]` when
 * nobody holds the lease) finds. One call for every waiter of the process due at one poll tick.
 */
export type Reclaim<V> = (
  keys: ReadonlyArray<string>,
  tokens: ReadonlyArray<string>,
) => Promise<ReadonlyArray<Claim<V>>>;

/** What a poll got: the claims, and whether one of its keys was woken while it was in flight. */
interface PollReply<V> {
  readonly claims: ReadonlyArray<Claim<V>>;
  readonly hurry: boolean;
}

/** One wait's next poll, queued for the process's batch (FillLease#poll). */
interface Poll<V> {
  readonly keys: ReadonlyArray<string>;
  readonly tokens: ReadonlyArray<string>;
  dueAt: number;
  resolve(reply: PollReply<V>): void;
  reject(error: unknown): void;
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

/**
 * Polling backoff of waiters: 10 ms doubling to 40 ms; to 160 ms when push invalidation wakes them. Each period is
 * a multiple of the previous, and a wait's polls fall on this process's grid of the period (offset by a random
 * phase per process, so processes do not poll in step): waiters of one process poll together, in one batch.
 */
const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 40;
const POLL_MAX_PUSHED_MS = 160;
/** Waiters due within this long of a batch ride in it (timers of one grid tick fire a little apart). */
const BATCH_WINDOW_MS = 2;
/** This process's phase on the polling grid. */
const PHASE = Math.random();
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
export class FillLease<V = unknown> {
  readonly counters = new LeaseCounters();
  readonly #ttl: LeaseTtl;
  readonly #cap = new OriginCap(ORIGIN_CAP);
  readonly #pollMaxMs: number;
  /** The polls queued for the next batch, and by key (a wake makes a key's polls due now). */
  readonly #polls = new Set<Poll<V>>();
  readonly #pollsByKey = new Map<string, Set<Poll<V>>>();
  /** Whether the batching loop runs; what cuts its sleep short, and until when it sleeps. */
  #polling = false;
  #kick: (() => void) | undefined;
  #sleepingUntil = Number.POSITIVE_INFINITY;
  /** Keys of the batch in flight, and those of them woken meanwhile (their reply may predate the fill). */
  #inFlight: ReadonlySet<string> = new Set();
  #wokenInFlight = new Set<string>();
  /** What lease events (`stratacache:lease`) name: the document or cache, and which kind. */
  events: { readonly document: string; readonly source: "document" | "cache" } = { document: "", source: "document" };

  constructor(
    readonly spec: LeaseSpec,
    /** Whether push invalidation wakes waiters (then polling is only a slow safety net). */
    pushed: boolean,
    private readonly timers: LeaseTimers = realTimers,
    /** How waiters look again: every waiter of this lease user due at one tick, in one call. */
    private readonly reclaim: Reclaim<V> = async () => {
      throw new Error("FillLease: no reclaim given");
    },
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
   * Waits for the keys whose claim is `held` by another token: re-claims them (for `tokens[i]`) whenever a key is
   * woken or a poll is due, until none is held or `maxWait` passed. The polls of every wait in this process that
   * fall due together go in one `reclaim` call (one round trip per hash slot). A re-claim may grant the lease to this
   * caller (the holder released it or died). A failing `reclaim` ends the wait (timed out). `maxWaitMs`: this
   * wait's bound, when not the spec's (a per-call option).
   */
  async settle(
    keys: ReadonlyArray<string>,
    claims: ReadonlyArray<Claim<V>>,
    tokens: ReadonlyArray<string>,
    maxWaitMs = this.spec.maxWaitMs,
  ): Promise<Array<Settled<V>>> {
    const out: Array<Settled<V>> = claims.map((claim) => ({ ...claim, timedOut: false }));
    this.counted(keys, claims);
    let pending: number[] = [];
    for (let i = 0; i < claims.length; i++) if (claims[i]!.state === "held") pending.push(i);
    if (pending.length === 0) return out;
    this.counters.waits += pending.length;
    const start = this.timers.now();
    const deadline = start + maxWaitMs;
    let period = POLL_FIRST_MS;
    let hurry = false;
    while (pending.length > 0) {
      const now = this.timers.now();
      if (deadline - now <= 0) break;
      // The next tick of this period's grid, at least half a period away (a first poll comes after 5–15 ms).
      const tick = (Math.floor((now + period / 2) / period - PHASE) + 1 + PHASE) * period;
      const dueAt = hurry ? now : Math.min(deadline, tick);
      period = Math.min(period * 2, this.#pollMaxMs);
      let replies: ReadonlyArray<Claim<V>>;
      try {
        const reply = await this.#poll(
          pending.map((i) => keys[i]!),
          pending.map((i) => tokens[i]!),
          dueAt,
        );
        replies = reply.claims;
        hurry = reply.hurry;
      } catch {
        break;
      }
      const still: number[] = [];
      pending.forEach((index, j) => {
        const reply = replies[j]!;
        out[index] = { ...reply, timedOut: false };
        if (reply.state === "held") still.push(index);
        else {
          if (reply.state === "granted") this.counters.granted++;
          if (leaseChannel.hasSubscribers) this.#waited(keys[index]!, reply.state, start);
        }
      });
      pending = still;
    }
    for (const i of pending) {
      out[i] = { ...out[i]!, state: "held", timedOut: true };
      if (leaseChannel.hasSubscribers) this.#waited(keys[i]!, "held", start);
    }
    this.counters.holderTimeouts += pending.length;
    this.counters.waitMs += this.timers.now() - start;
    return out;
  }

  /** Queues one poll, answered by the batch it falls in (or earlier, when one of its keys is woken). */
  #poll(keys: ReadonlyArray<string>, tokens: ReadonlyArray<string>, dueAt: number): Promise<PollReply<V>> {
    return new Promise((resolve, reject) => {
      const poll: Poll<V> = { keys, tokens, dueAt, resolve, reject };
      this.#polls.add(poll);
      for (const key of keys) {
        let set = this.#pollsByKey.get(key);
        if (set === undefined) {
          set = new Set();
          this.#pollsByKey.set(key, set);
        }
        set.add(poll);
      }
      if (!this.#polling) {
        this.#polling = true;
        queueMicrotask(() => void this.#batches()); // after the polls queued in this same turn
      } else if (dueAt < this.#sleepingUntil) this.#kick?.();
    });
  }

  /** The batching loop: sleeps until the earliest poll is due, then sends every poll due by then in one call. */
  async #batches(): Promise<void> {
    while (this.#polls.size > 0) {
      let next = Number.POSITIVE_INFINITY;
      for (const poll of this.#polls) if (poll.dueAt < next) next = poll.dueAt;
      const wait = next - this.timers.now();
      if (wait > 0) {
        this.#sleepingUntil = next;
        await this.timers.sleep(wait, (resolve) => {
          this.#kick = resolve;
        });
        this.#kick = undefined;
        this.#sleepingUntil = Number.POSITIVE_INFINITY;
        continue;
      }
      const horizon = this.timers.now() + BATCH_WINDOW_MS;
      const batch: Array<Poll<V>> = [];
      for (const poll of this.#polls) if (poll.dueAt <= horizon) batch.push(poll);
      for (const poll of batch) this.#unqueue(poll);
      this.#inFlight = new Set(batch.flatMap((poll) => poll.keys));
      this.#wokenInFlight = new Set();
      try {
        const replies = await this.reclaim(
          batch.flatMap((poll) => poll.keys),
          batch.flatMap((poll) => poll.tokens),
        );
        const woken = this.#wokenInFlight;
        let at = 0;
        for (const poll of batch) {
          // A key woken while this poll was in flight: its reply may predate the fill, so it polls again at once.
          poll.resolve({
            claims: replies.slice(at, at + poll.keys.length),
            hurry: poll.keys.some((k) => woken.has(k)),
          });
          at += poll.keys.length;
        }
      } catch (error) {
        for (const poll of batch) poll.reject(error);
      }
      this.#inFlight = new Set();
    }
    this.#polling = false;
  }

  #unqueue(poll: Poll<V>): void {
    this.#polls.delete(poll);
    for (const key of poll.keys) {
      const set = this.#pollsByKey.get(key);
      set?.delete(poll);
      if (set?.size === 0) this.#pollsByKey.delete(key);
    }
  }

  /** Counts (and reports) the leases granted in a lookup (`settle` counts its re-claims itself). */
  counted(keys: ReadonlyArray<string>, claims: ReadonlyArray<Claim<unknown>>): void {
    claims.forEach((claim, i) => {
      if (claim.state !== "granted") return;
      this.counters.granted++;
      if (leaseChannel.hasSubscribers) this.#granted(keys[i]!);
    });
  }

  /** Counts (and reports) leases taken outside a lookup (try-only). */
  took(keys: ReadonlyArray<string>): void {
    this.counters.granted += keys.length;
    if (leaseChannel.hasSubscribers) for (const key of keys) this.#granted(key);
  }

  #granted(key: string): void {
    const { document, source } = this.events;
    publishLease(document, source, key, "granted", undefined, 0);
  }

  /** A wait that ended: filled (`fresh`), granted, absent, or timed out (`held`). */
  #waited(key: string, state: LeaseState, start: number): void {
    const { document, source } = this.events;
    const outcome = state === "held" ? "timeout" : state === "fresh" ? "filled" : state;
    publishLease(document, source, key, "waited", outcome, this.timers.now() - start);
    if (outcome === "granted") this.#granted(key); // the re-claim took the lease: counted as granted too
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

  /**
   * The key changed or was filled (a push invalidation, or a local write): its waiters re-claim at once, together
   * with every other key woken in the same turn (one push message invalidates many keys).
   */
  wake(key: string): void {
    if (this.#inFlight.has(key)) this.#wokenInFlight.add(key);
    const polls = this.#pollsByKey.get(key);
    if (polls === undefined) return;
    const now = this.timers.now();
    for (const poll of polls) poll.dueAt = Math.min(poll.dueAt, now);
    this.#kick?.();
  }

  /** Every key may have changed (a clear, a flush, a lost channel): every waiter re-claims at once. */
  wakeAll(): void {
    for (const key of this.#inFlight) this.#wokenInFlight.add(key);
    const now = this.timers.now();
    for (const poll of this.#polls) poll.dueAt = Math.min(poll.dueAt, now);
    this.#kick?.();
  }
}

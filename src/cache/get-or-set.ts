import { abortable, throwIfAborted } from "../kernel/abortable.js";
import { TimeoutError, ValidationError } from "../kernel/errors.js";
import { withTimeout } from "../kernel/with-timeout.js";
import type { StoredEntry } from "../l2/key-value-store.js";
import { encodeKvValue } from "../l2/kv-input.js";
import type { CacheReadOutcome } from "../observability/cache-events.js";
import { publishCacheError, publishCacheWrite } from "../observability/cache-publish.js";
import { cacheErrorChannel, cacheWriteChannel } from "../observability/event-channels.js";
import { xfetchElected } from "../read-through/xfetch.js";
import type { BatchLoader, Loader } from "./cache.js";
import type { CacheCore, Loaded } from "./cache-core.js";
import type { GetOrSetSettings } from "./cache-input.js";
import type { KvClaim, KvLease } from "./kv-lease.js";
import { decodeStored, UNDEFINED_VALUE } from "./stored-value.js";

/** A result of getOrSet and where it came from (for onOperation). */
export interface Resolved {
  readonly value: unknown;
  readonly tier: "l1" | "l2" | "loader" | "stale";
  /** How the read ended (observability events). */
  readonly outcome: CacheReadOutcome;
  /** Where the entry read came from, when one was (a grace answer's tier). */
  readonly from: "l1" | "l2" | undefined;
}

const SOFT = Symbol("soft timeout");

/**
 * getOrSet of one key: the store (through L1), then — on a miss, a stale entry, or an XFetch election — the loader,
 * once per key per process (followers join the leader's flight). A stale entry (within grace) stands in when the
 * loader fails, passes its hard timeout, or (per caller) its soft timeout.
 */
export async function getOrSetOne(
  core: CacheCore,
  key: string,
  loader: Loader<unknown>,
  s: GetOrSetSettings<unknown>,
  reread = false,
): Promise<Resolved> {
  throwIfAborted(s.signal);
  const lease = leaseOf(core, s);
  const mark = core.flights.mark();
  let entry: StoredEntry | undefined;
  let fromL1 = false;
  let claim: KvClaim | undefined;
  try {
    if (lease === undefined) {
      const read = await abortable(core.read([key]), s.signal);
      entry = read.entries[0];
      fromL1 = read.fromL1 > 0;
    } else {
      // Not abortable: a lease granted to a caller that left is released below, not left to expire.
      const read = await core.claim(key, lease);
      claim = read.claim;
      entry = claim.entry;
      fromL1 = read.fromL1;
      if (s.signal?.aborted) {
        if (claim.state === "granted") lease.release(key, claim.token);
        throwIfAborted(s.signal);
      }
    }
  } catch (error) {
    if (s.signal?.aborted) throw error;
    absorb(core, "read", error);
  }
  let stale: Loaded | undefined;
  if (entry !== undefined) {
    const decoded = decodeStored(core, entry.value, s.schema);
    if (decoded !== undefined) {
      const now = core.clock.now();
      if (entry.freshUntil === 0 || now < entry.freshUntil) {
        if (claim?.state === "granted") lease!.release(key, claim.token); // fresh by our clock after all
        if (
          s.beta > 0 &&
          entry.freshUntil > 0 &&
          xfetchElected(now, entry.deltaMs, s.beta, core.clock.random(), entry.freshUntil)
        ) {
          core.counters.earlyRefreshes++;
          // Under a lease an early refresh is try-only: whoever loses keeps serving the cached value.
          let refresh: KvClaim | undefined;
          if (lease !== undefined && core.flights.join(key) === undefined) {
            const token = lease.token();
            refresh = (await lease.tryLease(key, token)) ? { entry, state: "granted", token } : undefined;
          }
          if (lease !== undefined && refresh === undefined) {
            countHit(core, fromL1);
            return { value: decoded.value, tier: fromL1 ? "l1" : "l2", outcome: "hit", from: fromL1 ? "l1" : "l2" };
          }
          if (s.background) {
            refreshInBackground(core, key, loader, s, decoded, refresh);
            countHit(core, fromL1);
            return { value: decoded.value, tier: fromL1 ? "l1" : "l2", outcome: "hit", from: fromL1 ? "l1" : "l2" };
          }
          stale = decoded; // inline: this caller waits for the loader, the current value is its fallback
          claim = refresh;
        } else {
          countHit(core, fromL1);
          return { value: decoded.value, tier: fromL1 ? "l1" : "l2", outcome: "hit", from: fromL1 ? "l1" : "l2" };
        }
      } else {
        stale = decoded;
      }
    }
  }
  let flight = core.flights.join(key);
  if (flight === undefined && lease === undefined && !reread && core.flights.settledSince(key, mark)) {
    // A load of this key ended while our read was on its way, maybe before its fill landed: read once more rather
    // than load again (one load per key per process). Under a lease the lease keeps other loads out instead.
    return getOrSetOne(core, key, loader, s, true);
  }
  core.counters.misses++;
  const from = stale === undefined ? undefined : fromL1 ? "l1" : "l2";
  const outcome: CacheReadOutcome = flight !== undefined ? "coalesced" : stale !== undefined ? "stale" : "miss";
  if (flight !== undefined) {
    core.counters.joined++;
    // This process already loads or waits for the key: a lease granted meanwhile goes back at once.
    if (claim?.state === "granted") lease!.release(key, claim.token);
  } else flight = lead(core, key, loader, s, stale, claim?.state === "fresh" ? undefined : claim);
  try {
    if (stale !== undefined && s.softMs > 0) {
      const first = await abortable(
        withTimeout(flight, s.softMs, () => SOFT as typeof SOFT),
        s.signal,
      );
      if (first === SOFT) {
        core.counters.softTimeouts++;
        core.counters.staleServed++;
        return { value: stale.value, tier: "stale", outcome: "grace", from };
      }
      return { value: (first as Loaded).value, tier: (first as Loaded).tier ?? "loader", outcome, from };
    }
    const loaded = (await abortable(flight, s.signal)) as Loaded;
    return { value: loaded.value, tier: loaded.tier ?? "loader", outcome, from };
  } catch (error) {
    if (stale !== undefined && !s.signal?.aborted && !(error instanceof ValidationError)) {
      core.counters.staleServed++;
      return { value: stale.value, tier: "stale", outcome: "grace", from };
    }
    throw error;
  }
}

/** The cache's lease when this call leases (the call's `lease`, else the route's), else undefined. */
function leaseOf(core: CacheCore, s: GetOrSetSettings<unknown>): KvLease | undefined {
  const lease = core.lease;
  if (lease === undefined || !(s.lease ?? lease.byDefault)) return undefined;
  return lease;
}

/**
 * Starts the one loader run of `key` and registers it for followers. With a lease `claim`: `"granted"` runs the
 * loader as the lease holder (renewing the lease, filling under it); `"held"` first waits for the holder's fill
 * (waitForFill), which may hand this process the lease, the value, or nothing by maxWait.
 */
function lead(
  core: CacheCore,
  key: string,
  loader: Loader<unknown>,
  s: GetOrSetSettings<unknown>,
  stale: Loaded | undefined,
  claim?: KvClaim,
): Promise<Loaded> {
  const epoch = core.epoch;
  const lease = claim === undefined ? undefined : core.lease;
  let flight: Promise<Loaded> | undefined;
  const run = async (): Promise<Loaded> => {
    // Another process's loader just returned nothing (an absent marker): so does this call, without loading.
    if (claim?.state === "absent") return { value: undefined, tier: "l2" };
    let held = claim?.state === "granted" ? claim : undefined;
    let fallback = false;
    if (claim?.state === "held" && lease !== undefined) {
      const waited = await waitForFill(core, lease, key, claim, s);
      if ("value" in waited) return waited;
      held = waited.granted;
      fallback = held === undefined;
      if (waited.stale !== undefined) stale = waited.stale;
    }
    const stop = held === undefined ? undefined : lease!.keepAlive(key, held.token);
    let value: unknown;
    let deltaMs: number;
    try {
      const call = () => runLoader(core, (signal) => loader({ signal, stale: stale?.value }), s.hardMs);
      [value, deltaMs] = await (held !== undefined ? lease!.load(call) : fallback ? lease!.fallback(call) : call());
      value = checkLoaded(core, value, s);
    } catch (error) {
      stop?.();
      if (held !== undefined) lease!.release(key, held.token);
      throw error;
    }
    stop?.();
    // A set/delete/clear since the loader began makes its result possibly older than the store: keep it local.
    if (core.epoch === epoch && flight !== undefined && core.flights.isLeading(key, flight)) {
      await fill(core, [[key, value]], s, deltaMs, held);
    } else if (held !== undefined) lease!.release(key, held.token);
    return { value };
  };
  flight = run();
  core.flights.lead(key, flight as Promise<Loaded | undefined>);
  flight.catch(() => {}); // followers and soft-timed-out callers may all have gone: never unhandled
  return flight;
}

/**
 * A waiter's side of the lease: the value another process filled (tier "l2"), or grace data once maxWait passed
 * (tier "stale"); else `granted` when the lease came to this process (the holder released it or died), or nothing
 * (timed out without grace data: the caller runs the loader itself, under the per-process cap).
 */
async function waitForFill(
  core: CacheCore,
  lease: KvLease,
  key: string,
  claim: KvClaim,
  s: GetOrSetSettings<unknown>,
): Promise<Loaded | { granted?: KvClaim; stale?: Loaded }> {
  const settled = await lease.settle(key, claim, s.leaseMaxWaitMs ?? lease.spec.maxWaitMs);
  const found = settled.value.entry;
  const decoded = found === undefined ? undefined : decodeStored(core, found.value, s.schema);
  if (settled.state === "granted") return { granted: settled.value, stale: decoded };
  if (settled.state === "absent") return { value: undefined, tier: "l2" };
  if (decoded !== undefined && found !== undefined) {
    if (found.freshUntil === 0 || core.clock.now() < found.freshUntil) {
      return { value: decoded.value, tier: "l2" };
    }
    if (settled.timedOut) {
      lease.counters.graceServes++;
      core.counters.staleServed++;
      return { value: decoded.value, tier: "stale" };
    }
  }
  return { stale: decoded };
}

function refreshInBackground(
  core: CacheCore,
  key: string,
  loader: Loader<unknown>,
  s: GetOrSetSettings<unknown>,
  current: Loaded,
  claim: KvClaim | undefined,
): void {
  if (core.flights.join(key) !== undefined) {
    if (claim !== undefined) core.lease?.release(key, claim.token);
    return;
  }
  const start = () => lead(core, key, loader, s, current, claim).then(() => {});
  if (core.refresher === undefined) {
    start().catch(() => {});
    return;
  }
  core.refresher.start([`${core.name}\u0000${key}`], start, () => {
    if (claim !== undefined) core.lease?.release(key, claim.token); // not started (queue full): nobody fills
  });
}

/** Runs a loader (counted), bounded by the hard timeout: past it, the loader's signal fires and TimeoutError. */
async function runLoader<T>(
  core: CacheCore,
  call: (signal: AbortSignal) => T | Promise<T>,
  hardMs: number,
): Promise<[T, number]> {
  core.counters.loads++;
  const controller = new AbortController();
  const startedAt = core.clock.now();
  try {
    const work = Promise.resolve().then(() => call(controller.signal));
    const value =
      hardMs > 0
        ? await withTimeout(work, hardMs, () => {
            core.counters.hardTimeouts++;
            controller.abort(new TimeoutError(`loader ran past its hard timeout of ${hardMs}ms`, hardMs));
            throw controller.signal.reason;
          })
        : await work;
    return [value, Math.max(0, core.clock.now() - startedAt)];
  } catch (error) {
    core.counters.loadErrors++;
    throw error;
  }
}

function checkLoaded(core: CacheCore, value: unknown, s: GetOrSetSettings<unknown>): unknown {
  if (value === undefined || s.schema === undefined) return value;
  const parsed = s.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    `cache ${core.name}`,
    parsed.error.issues.map((issue) => ({
      path: issue.path.filter((p): p is string | number => typeof p !== "symbol"),
      message: issue.message,
      code: issue.code,
    })),
    "loader result",
  );
}

/** Stores loaded values; a failing store is absorbed (the loader's values are still returned). */
async function fill(
  core: CacheCore,
  values: ReadonlyArray<readonly [string, unknown]>,
  s: GetOrSetSettings<unknown>,
  deltaMs: number,
  /** The lease the (single) value is filled under: its fill lands only while the lease is still this token's. */
  held?: KvClaim,
): Promise<void> {
  const now = core.clock.now();
  const keepsMeta = s.graceMs > 0 || s.beta > 0;
  const writes = [];
  for (const [key, value] of values) {
    if (value === undefined && s.notFoundTtlMs === 0) continue;
    let bytes: Buffer;
    try {
      bytes = value === undefined ? UNDEFINED_VALUE : encodeKvValue(value, core.maxValueBytes);
    } catch (error) {
      // Served, not cached (like a document body over maxValueBytes): say so, once per call.
      core.logger.warn("getOrSet: a loaded value cannot be cached", { cache: core.name, error: String(error) });
      continue;
    }
    const ttlMs = value === undefined ? s.notFoundTtlMs : s.ttlMs;
    writes.push({
      key,
      value: bytes,
      ttlMs: ttlMs + s.graceMs,
      freshUntil: keepsMeta ? now + ttlMs : 0,
      deltaMs: keepsMeta ? Math.max(1, Math.round(deltaMs)) : 0,
      tags: s.tags,
    });
  }
  const lease = held === undefined ? undefined : core.lease;
  if (writes.length === 0) {
    if (lease !== undefined) {
      const [key, value] = values[0]!;
      // Nothing to cache: an undefined tells the waiters (absent marker); a value too large lets them load it.
      if (value === undefined) lease.markAbsent(key, held!.token);
      else lease.release(key, held!.token);
    }
    return;
  }
  const startedAt = cacheWriteChannel.hasSubscribers ? performance.now() : 0;
  try {
    if (lease !== undefined) await lease.fill(writes[0]!, held!.token);
    else await core.store.write(writes);
    core.l1?.drop(writes.map((w) => w.key));
    if (cacheWriteChannel.hasSubscribers && startedAt !== 0) {
      publishCacheWrite(core.name, "fill", writes[0]?.key, writes.length, "ok", startedAt);
    }
  } catch (error) {
    if (cacheWriteChannel.hasSubscribers && startedAt !== 0) {
      publishCacheWrite(core.name, "fill", writes[0]?.key, writes.length, "failed", startedAt, error);
    }
    absorb(core, "write", error);
  }
}

/** getManyOrSet: one read for all, one loader call for the misses nobody is loading yet. */
export async function getManyOrSet(
  core: CacheCore,
  keys: ReadonlyArray<string>,
  loader: BatchLoader<unknown>,
  s: GetOrSetSettings<unknown>,
): Promise<{ values: unknown[]; hits: number; l1Hits: number }> {
  throwIfAborted(s.signal);
  let entries: Array<StoredEntry | undefined> = [];
  let fromL1 = 0;
  const mark = core.flights.mark();
  try {
    const read = await abortable(core.read(keys), s.signal);
    entries = read.entries;
    fromL1 = read.fromL1;
  } catch (error) {
    if (s.signal?.aborted) throw error;
    absorb(core, "read", error);
  }
  const values = new Array<unknown>(keys.length);
  const waits: Array<Promise<void>> = [];
  const toLoad = new Map<string, number[]>();
  let hits = 0;
  keys.forEach((key, i) => {
    const entry = entries[i];
    const decoded = entry === undefined ? undefined : decodeStored(core, entry.value, s.schema);
    if (
      decoded !== undefined &&
      entry !== undefined &&
      (entry.freshUntil === 0 || core.clock.now() < entry.freshUntil)
    ) {
      hits++;
      values[i] = decoded.value;
      return;
    }
    const joined = toLoad.has(key) ? undefined : core.flights.join(key);
    if (joined !== undefined) {
      core.counters.joined++;
      waits.push(
        joined.then((loaded) => {
          values[i] = loaded?.value;
        }),
      );
      return;
    }
    const at = toLoad.get(key);
    if (at) at.push(i);
    else toLoad.set(key, [i]);
  });
  // Keys whose load ended while this read was on its way (see getOrSetOne): read once more rather than load again.
  const raced = [...toLoad.keys()].filter((key) => core.flights.settledSince(key, mark));
  if (raced.length > 0) {
    try {
      const again = await abortable(core.read(raced), s.signal);
      fromL1 += again.fromL1;
      raced.forEach((key, j) => {
        const entry = again.entries[j];
        const decoded = entry === undefined ? undefined : decodeStored(core, entry.value, s.schema);
        const indices = toLoad.get(key) as number[];
        if (
          decoded !== undefined &&
          entry !== undefined &&
          (entry.freshUntil === 0 || core.clock.now() < entry.freshUntil)
        ) {
          for (const i of indices) values[i] = decoded.value;
          hits += indices.length;
          toLoad.delete(key);
          return;
        }
        const joined = core.flights.join(key); // a load that began since
        if (joined !== undefined) {
          core.counters.joined++;
          waits.push(
            joined.then((loaded) => {
              for (const i of indices) values[i] = loaded?.value;
            }),
          );
          toLoad.delete(key);
        }
      });
    } catch (error) {
      if (s.signal?.aborted) throw error;
      absorb(core, "read", error);
    }
  }
  core.counters.hits += hits - Math.min(hits, fromL1);
  core.counters.l1Hits += Math.min(hits, fromL1);
  core.counters.misses += keys.length - hits;
  if (toLoad.size > 0) {
    const missing = [...toLoad.keys()];
    const epoch = core.epoch;
    const batch = (async () => {
      const [raw, deltaMs] = await runLoader(core, (signal) => loader(missing, { signal }), 0);
      const loaded = new Map<string, Loaded | undefined>();
      const byKey = batchResult(raw, missing);
      const toFill: Array<readonly [string, unknown]> = [];
      for (const key of missing) {
        const value = checkLoaded(core, byKey(key), s);
        loaded.set(key, { value });
        toFill.push([key, value]);
      }
      if (core.epoch === epoch) await fill(core, toFill, s, deltaMs);
      return loaded;
    })();
    core.flights.leadBatch(missing, batch);
    batch.catch(() => {});
    waits.push(
      abortable(batch, s.signal).then((loaded) => {
        for (const [key, indices] of toLoad) for (const i of indices) values[i] = loaded.get(key)?.value;
      }),
    );
  }
  await abortable(Promise.all(waits), s.signal);
  return { values, hits, l1Hits: Math.min(hits, fromL1) };
}

function batchResult(raw: unknown, keys: ReadonlyArray<string>): (key: string) => unknown {
  if (raw instanceof Map) return (key) => raw.get(key);
  if (Array.isArray(raw)) {
    const index = new Map(keys.map((key, i) => [key, i]));
    return (key) => raw[index.get(key) as number];
  }
  if (typeof raw === "object" && raw !== null) {
    return (key) => (Object.hasOwn(raw, key) ? (raw as Record<string, unknown>)[key] : undefined);
  }
  throw new ValidationError(
    "cache",
    [{ path: [], message: "a batch loader must return a Map, a Record or an array", code: "invalid_type" }],
    "loader result",
  );
}

function countHit(core: CacheCore, fromL1: boolean): void {
  if (fromL1) core.counters.l1Hits++;
  else core.counters.hits++;
}

/** getOrSet never fails because the store did: the loader answers (invariant 4, for values). */
function absorb(core: CacheCore, what: "read" | "write", error: unknown): void {
  core.counters.storeErrors++;
  if (cacheErrorChannel.hasSubscribers) publishCacheError(core.name, what, error);
  core.storeErrorLog.warn(what, `getOrSet: store ${what} failed; the loader answers`, {
    cache: core.name,
    error: error instanceof Error ? error.message : String(error),
  });
}

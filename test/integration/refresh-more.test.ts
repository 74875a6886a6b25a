/**
 * More early-refresh and lifetime rules, over real Postgres and a real Redis:
 *  - XFetch elections inside a getMany batch (inline: refetched in the batch's one query; background: served from the
 *    cache at once, one detached refresh);
 *  - runtime.stop() while a background refresh is held up in Postgres (TCP proxy delay);
 *  - sliding lifetimes on Redis itself, in real time with a short window;
 *  - age-based lifetimes never letting an L1 copy outlive `l1.ttl` (nor L2 freshness).
 * Time and randomness come from an injected clock everywhere except the sliding test, whose expiry Redis itself
 * enforces on its own (real) clock.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../src/index.js";
import { RuntimeStateError } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { integrationEnv } from "../support/services.js";
import {
  entryKey,
  FetchCostClock,
  idleClockKey,
  ManualClock,
  productSpec,
  QueryCounter,
  sleep,
} from "../support/strata.js";
import { buildSystem, type SystemOptions } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });

/** Scripted draws, then 0.999 (a reach of about 0.001·delta: never elected unless at the horizon). */
function scriptedClock(): FetchCostClock {
  const clock = new FetchCostClock(Date.now(), 1_000);
  clock.fixedRandom = 0.999;
  return clock;
}

/** A logger that keeps warnings and errors, to assert that nothing went wrong quietly. */
function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message) => void lines.push(`warn: ${message}`),
    error: (message) => void lines.push(`error: ${message}`),
  };
  return { logger, lines };
}

let admin: pg.Pool;
let raw: Redis;
beforeAll(() => {
  if (env.skip) return;
  admin = new pg.Pool({ connectionString: env.postgres!.url, max: 3 });
  // pool.end() resolves before its clients have finished closing; the file's DROP DATABASE … WITH (FORCE) may then
  // terminate one, which the pool would re-emit as an unhandled 'error'.
  admin.on("error", () => {});
  raw = new Redis(env.redisUrl!);
});
afterAll(async () => {
  await admin?.end();
  raw?.disconnect();
});

/** The system of one test: its own Redis namespace on the file's server, with the clock and a SELECT counter. */
function systemFor(
  name: string,
  clock: ManualClock | undefined,
  counter: QueryCounter,
  extra: Partial<SystemOptions> = {},
) {
  const onQuery = (sql: string) => {
    if (clock instanceof FetchCostClock) clock.onQuery(sql);
    counter.onQuery(sql);
  };
  return buildSystem({
    postgres: env.postgres!.url,
    redis: { url: env.redisUrl! },
    documents: [name],
    onQuery,
    ...(clock === undefined ? {} : { clock }),
    ...extra,
  });
}

/** The Redis keys of one document entry (buildSystem names the cache namespace `<namespace>:<document>`). */
function keysOf(namespace: string, name: string, fingerprint: string, id: string) {
  const spec = { name, fingerprint };
  return { entry: entryKey(namespace, spec, id), idleClock: idleClockKey(namespace, spec, id) };
}

/** The header of a raw L2 entry: `s1|fp|incarnation|rev|fetchedAt|delta|freshUntil|body`. */
async function entryHeader(key: string) {
  const value = await raw.get(key);
  if (value === null) return undefined;
  const parts = value.split("|");
  return { rev: Number(parts[3]), fetchedAt: Number(parts[4]), delta: Number(parts[5]), freshUntil: Number(parts[6]) };
}

async function bumpPrice(table: string, id: string, price: number): Promise<void> {
  await admin.query(
    `UPDATE ${table} SET data = data || jsonb_build_object('price', $2::int), rev = rev + 1 WHERE id = $1`,
    [id, price],
  );
}

describe.skipIf(env.skip)("early refresh through getMany", () => {
  it("inline: the one elected entry of a batch is refetched in the batch's single query; the others are served", async () => {
    const name = "gm_inline";
    const spec = productSpec({ ttl: "10s", earlyRefresh: { beta: 1 } }, name);
    const clock = scriptedClock();
    const counter = new QueryCounter();
    const system = await systemFor(name, clock, counter);
    const { runtime, namespace } = system;
    try {
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const a = await docs.create({ name: "a", price: 1 });
      const b = await docs.create({ name: "b", price: 1 });
      const c = await docs.create({ name: "c", price: 1 });
      const ids = [a.id, b.id, c.id];
      await query.getMany(ids); // one batch fill: delta = 1000 ms each, fresh for 10 s
      await runtime.settled();
      expect(query.stats().source).toMatchObject({ batchFetches: 1, fills: 3 });
      const header = await entryHeader(keysOf(namespace, name, spec.fingerprint, b.id).entry);
      expect(header).toMatchObject({ rev: 1, delta: 1_000 });
      expect(header!.freshUntil - header!.fetchedAt).toBe(10_000);

      // Postgres moves on for a and b; only b will be elected, so only b may come back new.
      await bumpPrice(name, a.id, 2);
      await bumpPrice(name, b.id, 2);
      clock.advance(10_000 - 2_000); // 2 s of freshness left
      // One random per entry, in batch order. Reach = −1000·ln(r): 0.999 → 1 ms (not elected); 0.01 → 4.6 s (elected).
      clock.randoms = [0.999, 0.01, 0.999];
      counter.reset();
      const before = query.stats();
      const batch = await query.getMany(ids);
      expect(clock.randoms).toEqual([]); // exactly one election draw per entry
      expect(batch.map((doc) => [doc.id, doc.rev, doc.price])).toEqual([
        [a.id, 1, 1], // served from L2: its update is not seen yet (not elected)
        [b.id, 2, 2], // elected: refetched inline, the fresh value returned
        [c.id, 1, 1],
      ]);
      expect(counter.selects).toBe(1);
      await runtime.settled();
      const after = query.stats();
      expect(after.refresh.electedInline - before.refresh.electedInline).toBe(1);
      expect(after.refresh.electedBackground).toBe(0);
      expect(after.l2.hits - before.l2.hits).toBe(3);
      expect(after.source.batchFetches - before.source.batchFetches).toBe(1);
      expect(after.source.fetches - before.source.fetches).toBe(0);
      expect(after.source.fills - before.source.fills).toBe(1);
      expect(await entryHeader(keysOf(namespace, name, spec.fingerprint, b.id).entry)).toMatchObject({ rev: 2 });

      // The refetched entry was filled: the next batch is all hits, with b's new version and no query.
      const again = await query.getMany(ids);
      expect(again.map((doc) => doc.rev)).toEqual([1, 2, 1]);
      expect(counter.selects).toBe(1);
      expect(query.stats().refresh.electedInline).toBe(1);
    } finally {
      await system.stop();
    }
  });

  it("background: the batch returns cached values at once; exactly one detached refresh runs for the elected id", async () => {
    const name = "gm_background";
    const spec = productSpec({ ttl: "10s", earlyRefresh: { beta: 1, background: true } }, name);
    const clock = scriptedClock();
    const counter = new QueryCounter();
    const system = await systemFor(name, clock, counter);
    const { runtime, namespace } = system;
    const locker = await admin.connect();
    try {
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const a = await docs.create({ name: "a", price: 1 });
      const b = await docs.create({ name: "b", price: 1 });
      const c = await docs.create({ name: "c", price: 1 });
      const ids = [a.id, b.id, c.id];
      await query.getMany(ids);
      clock.fetchCostMs = 0; // the entries' delta is 1 s; from here on time moves only when the test says
      await bumpPrice(name, b.id, 2);
      clock.advance(10_000 - 2_000);
      counter.reset();

      // Hold the refresh in Postgres: its SELECT waits on an exclusive lock until we commit.
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
      clock.randoms = [0.999, 0.01, 0.999];
      const first = await query.getMany(ids); // resolves while the refresh is blocked: served from the cache
      expect(first.map((doc) => [doc.rev, doc.price])).toEqual([
        [1, 1],
        [1, 1], // b is elected, but the reader gets the cached version at once
        [1, 1],
      ]);
      expect(query.stats().refresh).toMatchObject({ electedBackground: 1, electedInline: 0, dropped: 0 });
      expect(query.stats().source.batchFetches).toBe(1); // only the initial fill so far

      // Elected again while its refresh is still running: dropped, not a second refresh.
      clock.randoms = [0.999, 0.01, 0.999];
      const second = await query.getMany(ids);
      expect(second.map((doc) => doc.rev)).toEqual([1, 1, 1]);
      expect(query.stats().refresh).toMatchObject({ electedBackground: 2, dropped: 1 });

      await locker.query("COMMIT");
      await waitUntil(() => query.stats().source.batchFetches === 2);
      await waitUntil(() => query.stats().source.fills === 4); // 3 from the first fill + the refresh of b
      expect(counter.selects).toBe(1); // exactly one refresh query, for the whole run
      expect(query.stats().refresh.failures).toBe(0);
      expect(await entryHeader(keysOf(namespace, name, spec.fingerprint, b.id).entry)).toMatchObject({ rev: 2 });

      const third = await query.getMany(ids); // not elected (fallback random): plain hits, b now at rev 2
      expect(third.map((doc) => [doc.rev, doc.price])).toEqual([
        [1, 1],
        [2, 2],
        [1, 1],
      ]);
      expect(counter.selects).toBe(1);
      expect(query.stats().refresh).toMatchObject({ electedBackground: 2, electedInline: 0, dropped: 1 });
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      locker.release();
      await system.stop();
    }
  });
});

describe.skipIf(env.skip)("runtime.stop() with a background refresh in flight", () => {
  it("waits for the refresh held up in Postgres, then closes; nothing fails or rejects afterwards", async () => {
    const name = "stop_drain";
    const spec = productSpec({ ttl: "10s", earlyRefresh: { beta: 1, background: true } }, name);
    const clock = scriptedClock();
    const counter = new QueryCounter();
    const { logger, lines } = recordingLogger();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const system = await systemFor(name, clock, counter, { proxy: "postgres", logger });
    const { runtime, namespace } = system;
    const proxy = system.proxy!;
    try {
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const doc = await docs.create({ name: "held", price: 1 });
      const other = await docs.create({ name: "other", price: 1 });
      await query.get(doc.id); // fill: delta 1 s
      await runtime.settled();
      clock.fetchCostMs = 0;
      await bumpPrice(name, doc.id, 2);
      clock.advance(10_000 - 2_000);
      counter.reset();

      proxy.delay(300); // every chunk, each way: the refresh's SELECT takes ≥ 600 ms
      clock.randoms = [0.01];
      const served = await query.get(doc.id);
      expect(served).toMatchObject({ rev: 1, price: 1 }); // the cached value, at once
      expect(query.stats().refresh.electedBackground).toBe(1);
      await waitUntil(() => counter.selects === 1); // the refresh's SELECT is on the wire
      expect(query.stats().source.batchFetches).toBe(0); // … and has not come back

      const stopping = runtime.stop();
      expect(runtime.state).toBe("stopping");
      await stopping;
      expect(runtime.state).toBe("stopped");
      // stop() waited for the refresh: it completed and its fill landed before Redis was closed.
      const stats = query.stats();
      expect(stats.source.batchFetches).toBe(1);
      expect(stats.source.fills).toBe(2);
      expect(stats.refresh).toMatchObject({ electedBackground: 1, failures: 0, dropped: 0 });
      expect(await entryHeader(keysOf(namespace, name, spec.fingerprint, doc.id).entry)).toMatchObject({ rev: 2 });

      // After stop: reads fail with a typed error (no hang, no stray rejection), and nothing else happens later.
      proxy.delay(0);
      await expect(query.get(other.id)).rejects.toBeInstanceOf(RuntimeStateError);
      expect(() => runtime.context()).toThrow(RuntimeStateError);
      await runtime.stop(); // idempotent
      await sleep(400); // longer than a delayed one-way hop: anything late would have surfaced by now
      expect(unhandled).toEqual([]);
      expect(lines).toEqual([]);
      expect(counter.selects).toBe(1);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      proxy.delay(0);
      await system.stop();
    }
  });
});

describe.skipIf(env.skip)("sliding lifetimes on Redis, in real time", () => {
  const WINDOW = 300;
  const TTL = 1_000;
  /** Reads are planned every half window; a gap longer than this (a stalled event loop) voids an attempt. */
  const MAX_GAP = WINDOW - 50;

  it("a key read every half-window outlives several windows but not the absolute cap; an idle key expires", async () => {
    const name = "slide_real";
    const spec = productSpec({ ttl: TTL, slidingTtl: WINDOW }, name);
    const counter = new QueryCounter();
    const system = await systemFor(name, undefined, counter);
    const { runtime, namespace } = system;
    try {
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const voided: string[] = [];
      // Real time on a shared machine: retry an attempt whose schedule slipped (that would void its premise).
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await slidingAttempt();
        if (result === "ok") return;
        voided.push(result);
      }
      throw new Error(`every attempt's schedule slipped: ${voided.join("; ")}`);

      async function slidingAttempt(): Promise<"ok" | string> {
        const hot = await docs.create({ name: "hot", price: 1 });
        const idle = await docs.create({ name: "idle", price: 1 });
        const hotKeys = keysOf(namespace, name, spec.fingerprint, hot.id);
        const idleKeys = keysOf(namespace, name, spec.fingerprint, idle.id);
        const filling = Date.now();
        await query.getMany([hot.id, idle.id]); // both filled (and idle clocks started) in one round trip
        const t0 = Date.now(); // both entries are fresh until at most t0 + TTL
        if (t0 - filling > 100) return `fill took ${t0 - filling} ms`;
        counter.reset();
        const hitsBefore = query.stats().l2.hits;
        let last = filling;
        const readHotAt = async (offset: number) => {
          await sleepUntil(t0 + offset);
          const now = Date.now();
          const gap = now - last;
          last = now;
          const doc = await query.get(hot.id);
          expect(doc.name).toBe("hot");
          return gap;
        };
        // Hot: read every half window for three windows (150 … 900 ms).
        for (let k = 1; k <= 6; k++) {
          const gap = await readHotAt(k * (WINDOW / 2));
          if (gap > MAX_GAP) return `hot read ${k} came ${gap} ms after the previous one`;
          if (k === 3) {
            // Idle for 1.5 windows (its entry's absolute lifetime is far from over): gone for readers.
            if (Date.now() > filling + TTL - 200) return "idle check came too late";
            expect(await raw.exists(idleKeys.entry)).toBe(1); // still in Redis under its absolute expiry …
            expect(await raw.exists(idleKeys.idleClock)).toBe(0); // … but its idle clock has run out
            const again = await query.get(idle.id);
            expect(again.name).toBe("idle");
            expect(counter.selects).toBe(1); // read from Postgres, not served
          }
        }
        if (last > filling + TTL - 60) return `the last sliding read came ${last - filling} ms after the fill`;
        expect(counter.selects).toBe(1); // the hot key never left the cache: only idle's refetch
        expect(query.stats().l2.hits - hitsBefore).toBe(6);
        expect(await raw.pttl(hotKeys.idleClock)).toBeGreaterThan(0); // its idle clock is still running
        // Sliding never pushed the entry's own expiry past its absolute lifetime (fresh until at most t0 + TTL).
        const capLeft = t0 + TTL - Date.now();
        expect(await raw.pttl(hotKeys.entry)).toBeLessThanOrEqual(capLeft + 20);
        // Half a window later the absolute lifetime (1 s) is over: read from Postgres, however hot.
        const gap = await readHotAt(TTL + WINDOW / 2 - 100);
        if (gap > MAX_GAP) return `the cap read came ${gap} ms after the previous one`;
        expect(counter.selects).toBe(2);
        expect(query.stats().l2.hits - hitsBefore).toBe(6);
        return "ok";
      }
    } finally {
      await system.stop();
    }
  }, 20_000);
});

describe.skipIf(env.skip)("age-based lifetimes and L1", () => {
  it.each(["lru", "tinylfu"] as const)(
    "%s: an L1 copy never outlives l1.ttl, even when the age-based lifetime is a day",
    async (policy) => {
      const name = `age_l1_${policy}`;
      const spec = productSpec(
        { ttl: "1m", l1: { ttl: "2s", policy }, ageTtl: { alpha: 0.1, min: "500ms", max: "1d" } },
        name,
      );
      const clock = new ManualClock(Date.now());
      const counter = new QueryCounter();
      const system = await systemFor(name, clock, counter);
      const { runtime, namespace } = system;
      try {
        const docs = runtime.context().document.command(spec);
        const query = runtime.context().document.query(spec);
        const old = await docs.create({ name: "old", price: 1 });
        await admin.query(`UPDATE ${name} SET updated_at = $2 WHERE id = $1`, [
          old.id,
          new Date(clock.now() - 30 * 86_400_000),
        ]);
        await query.get(old.id); // fill: a month old → the max, a day of freshness in L2
        await runtime.settled();
        const header = await entryHeader(keysOf(namespace, name, spec.fingerprint, old.id).entry);
        expect(header!.freshUntil - header!.fetchedAt).toBe(86_400_000);
        counter.reset();

        const read = async () => {
          const before = query.stats();
          const doc = await query.get(old.id);
          expect(doc.name).toBe("old");
          const after = query.stats();
          return {
            l1: after.l1!.hits - before.l1!.hits,
            l2: after.l2.hits - before.l2.hits,
            selects: counter.selects,
          };
        };
        expect(await read()).toEqual({ l1: 1, l2: 0, selects: 0 });
        clock.advance(1_999);
        expect(await read()).toEqual({ l1: 1, l2: 0, selects: 0 }); // still within l1.ttl
        clock.advance(2);
        expect(await read()).toEqual({ l1: 0, l2: 1, selects: 0 }); // l1.ttl is over: L2 (fresh for a day)
        expect(query.peek(old.id)).toMatchObject({ rev: 1 }); // refilled from L2 …
        clock.advance(2_001);
        expect(query.peek(old.id)).toBeUndefined(); // … for l1.ttl again, no longer
        const before = query.stats();
        const [viaBatch] = await query.getMany([old.id]); // the batch path honours the cap too
        expect(viaBatch).toMatchObject({ name: "old", rev: 1 });
        expect(query.stats().l2.hits - before.l2.hits).toBe(1);
        expect(counter.selects).toBe(0);
        expect(query.stats().l1!.expirations).toBeGreaterThanOrEqual(2);

        // The other side: a just-edited document gets `min` (500 ms), and its L1 copy goes with its L2 freshness.
        const young = await docs.create({ name: "young", price: 1 });
        await admin.query(`UPDATE ${name} SET updated_at = $2 WHERE id = $1`, [young.id, new Date(clock.now())]);
        await query.get(young.id);
        await runtime.settled();
        const youngHeader = await entryHeader(keysOf(namespace, name, spec.fingerprint, young.id).entry);
        expect(youngHeader!.freshUntil - youngHeader!.fetchedAt).toBe(500);
        counter.reset();
        clock.advance(499);
        expect(query.peek(young.id)).toMatchObject({ name: "young" });
        clock.advance(2);
        expect(query.peek(young.id)).toBeUndefined(); // not l1.ttl (2 s): L2 freshness ended at 500 ms
        const staleBefore = query.stats().l2.stale;
        expect(await query.get(young.id)).toMatchObject({ name: "young" });
        expect(counter.selects).toBe(1); // stale in L2 too: refetched
        expect(query.stats().l2.stale - staleBefore).toBe(1);
      } finally {
        await system.stop();
      }
    },
  );
});

async function sleepUntil(deadline: number): Promise<void> {
  for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) await sleep(left);
}

/**
 * Early refresh (XFetch, inline and background), age-based and sliding lifetimes, and stale-if-error grace, over
 * real Postgres. Time and randomness come from an injected clock; each SELECT advances it by a fixed "fetch cost",
 * which is what XFetch measures as delta. The in-process L2 expires keys on that same clock, so nothing sleeps.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheSpecInput, Clock } from "../../src/index.js";
import { UnavailableError } from "../../src/index.js";
import { eventuallyResolves, waitUntil } from "../support/eventually.js";
import { seededRandom } from "../support/seeded-random.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, FetchCostClock, ManualClock, productSpec, QueryCounter } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";
import type { TcpProxy } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

let admin: pg.Pool;
beforeAll(() => {
  if (!env.skip) admin = new pg.Pool({ connectionString: env.postgres!.url, max: 3 });
});
afterAll(async () => {
  await admin?.end();
});

async function memorySystem(
  clock: Clock & { onQuery?: (sql: string) => void },
  name: string,
  extra: { counter?: QueryCounter; refreshConcurrency?: number } = {},
) {
  const onQuery = (sql: string) => {
    clock.onQuery?.(sql);
    extra.counter?.onQuery(sql);
  };
  return buildSystem({
    postgres: env.postgres!.url,
    redis: "memory",
    documents: [name],
    clock,
    onQuery,
    ...(extra.refreshConcurrency ? { refreshConcurrency: extra.refreshConcurrency } : {}),
  });
}

describe.skipIf(env.skip)("early refresh (XFetch)", () => {
  it("inline: an elected hit refetches and returns the fresh value; a hit far from expiry is never elected", async () => {
    const name = "xf_inline";
    const spec = productSpec({ ttl: "10s", earlyRefresh: { beta: 1 } }, name);
    const clock = new FetchCostClock(Date.now(), 1_000);
    const counter = new QueryCounter();
    const system = await memorySystem(clock, name, { counter });
    const { runtime } = system;
    try {
      const query = runtime.context().document.query(spec);
      const created = await runtime.context().document.command(spec).create({ name: "x", price: 1 });
      await query.get(created.id); // fill: delta = 1000 ms, freshUntil = fetch end + 10 s
      await runtime.settled();
      counter.reset();
      clock.fixedRandom = 0.5; // reach = 1000 · ln 2 ≈ 693 ms
      for (let i = 0; i < 20; i++) await query.get(created.id);
      expect(counter.selects).toBe(0);
      expect(query.stats().refresh.electedInline).toBe(0);

      await admin.query(`UPDATE ${name} SET data = data || '{"price": 2}', rev = rev + 1 WHERE id = $1`, [created.id]);
      clock.advance(10_000 - 500); // 500 ms left < 693 ms reach: elected
      const fresh = await query.get(created.id);
      expect(fresh).toMatchObject({ rev: 2, price: 2 });
      expect(counter.selects).toBe(1);
      expect(query.stats().refresh.electedInline).toBe(1);
    } finally {
      await system.stop();
    }
  });

  it("background: the elected read gets the cached value at once; one refresh runs; the next read sees it", async () => {
    const name = "xf_background";
    const spec = productSpec({ ttl: "10s", earlyRefresh: { beta: 1, background: true } }, name);
    const clock = new FetchCostClock(Date.now(), 1_000);
    const counter = new QueryCounter();
    const system = await memorySystem(clock, name, { counter });
    const { runtime } = system;
    const locker = await admin.connect();
    try {
      const query = runtime.context().document.query(spec);
      const created = await runtime.context().document.command(spec).create({ name: "x", price: 1 });
      await query.get(created.id);
      clock.fetchCostMs = 0; // the entry's delta is 1 s; from here on, time moves only when we say
      await admin.query(`UPDATE ${name} SET data = data || '{"price": 2}', rev = rev + 1 WHERE id = $1`, [created.id]);
      clock.advance(10_000 - 500);
      clock.fixedRandom = 0.5;
      counter.reset();
      // Hold the refresh in Postgres: an exclusive lock makes its SELECT wait until we release it.
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
      const reads = [];
      for (let i = 0; i < 100; i++) reads.push(await query.get(created.id)); // 100 elected hits, one after another
      expect(reads.every((doc) => doc.rev === 1)).toBe(true); // served at once, from the cache
      const stats = query.stats().refresh;
      expect(stats.electedBackground).toBe(100);
      expect(stats.dropped).toBe(99); // one refresh per key: the other 99 elections were dropped
      await locker.query("COMMIT");
      await waitUntil(() => query.stats().source.batchFetches === 1 && query.stats().source.fills >= 2);
      expect(counter.selects).toBe(1); // exactly one refresh query
      clock.fixedRandom = 0.999; // not elected again
      expect(await query.get(created.id)).toMatchObject({ rev: 2, price: 2 });
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      locker.release();
      await system.stop();
    }
  });

  it("background: the concurrency cap drops excess elections, and a failing refresh is invisible to readers", async () => {
    const name = "xf_cap";
    const spec = productSpec({ ttl: "10s", earlyRefresh: { beta: 1, background: true } }, name);
    const clock = new FetchCostClock(Date.now(), 1_000);
    const system = await memorySystem(clock, name, { refreshConcurrency: 1 });
    const { runtime } = system;
    const locker = await admin.connect();
    try {
      const query = runtime.context().document.query(spec);
      const docs = runtime.context().document.command(spec);
      const a = await docs.create({ name: "a", price: 1 });
      const b = await docs.create({ name: "b", price: 1 });
      await query.get(a.id);
      await query.get(b.id);
      clock.fetchCostMs = 0;
      clock.advance(10_000 - 1_500);
      clock.fixedRandom = 0.01; // reach ≈ 4.6 s: both elected
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
      await query.get(a.id); // starts A's refresh, which blocks on the lock
      await query.get(b.id); // at the cap: dropped
      expect(query.stats().refresh).toMatchObject({ electedBackground: 2, dropped: 1 });
      await locker.query("COMMIT");
      await waitUntil(() => query.stats().source.batchFetches === 1);

      // A refresh that fails (its table is gone) is logged and counted; the reader still gets the cached value.
      await admin.query(`ALTER TABLE ${name} RENAME TO ${name}_gone`);
      try {
        expect((await query.get(b.id)).name).toBe("b"); // elected again: its refresh runs and fails
        await waitUntil(() => query.stats().refresh.failures === 1);
        expect((await query.get(b.id)).name).toBe("b");
      } finally {
        await admin.query(`ALTER TABLE ${name}_gone RENAME TO ${name}`);
      }
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      locker.release();
      await system.stop();
    }
  });

  it("many runtimes reading one hot key: recomputes spread out before expiry instead of all landing at it", async () => {
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      documents: ["hot_off", "hot_on"],
    });
    try {
      const runs = { off: await hotKeyRun(system, false), on: await hotKeyRun(system, true) };
      // Off: nothing refreshes early; every replica misses in the slice where the entry expires.
      expect(runs.off.beforeExpiry).toBe(0);
      expect(runs.off.maxPerSlice).toBe(8);
      // On: the first recompute comes before expiry, and no slice sees every replica at once.
      expect(runs.on.beforeExpiry).toBeGreaterThanOrEqual(1);
      expect(runs.on.maxPerSlice).toBeLessThan(8);
    } finally {
      await system.stop();
    }
  }, 60_000);
});

/**
 * Eight runtimes (peers of the system) share Postgres, Redis and time; each slice of 100 ms they all read the hot key
 * at once. Returns the Postgres reads per slice. The entry's fetch cost (delta) is 2 s and it lives 10 s.
 */
async function hotKeyRun(system: System, early: boolean) {
  const name = early ? "hot_on" : "hot_off";
  const spec = productSpec(
    { ttl: "10s", ...(early ? { earlyRefresh: { beta: 1 } } : {}) } satisfies CacheSpecInput,
    name,
  );
  const time = { now: Date.now() };
  const counter = new QueryCounter();
  const runtimes = [];
  for (let i = 0; i < 8; i++) {
    const rng = seededRandom(1000 + i);
    runtimes.push(
      await system.startPeer({
        documents: [name],
        clock: { now: () => time.now, random: rng },
        onQuery: counter.onQuery,
      }),
    );
  }
  try {
    const created = await runtimes[0]!.context().document.command(spec).create({ name: "hot", price: 1 });
    // Fill once, from a runtime whose clock moves 2 s per SELECT: the entry's measured fetch cost (delta).
    const slowClockQuery = (sql: string) => {
      if (/^\s*select\b/i.test(sql)) time.now += 2_000;
    };
    const fillRuntime = await system.startPeer({
      documents: [name],
      clock: { now: () => time.now, random: Math.random },
      onQuery: slowClockQuery,
    });
    await fillRuntime.context().document.query(spec).get(created.id);
    await fillRuntime.stop();
    const expiry = time.now + 10_000;
    counter.reset();
    const perSlice: number[] = [];
    let beforeExpiry = 0;
    for (let t = time.now; t < expiry + 500; t += 100) {
      time.now = t;
      const before = counter.selects;
      await Promise.all(runtimes.map((r) => r.context().document.query(spec).get(created.id)));
      const n = counter.selects - before;
      perSlice.push(n);
      if (t < expiry) beforeExpiry += n;
    }
    return { perSlice, beforeExpiry, maxPerSlice: Math.max(...perSlice) };
  } finally {
    for (const r of runtimes) await r.stop();
  }
}

describe.skipIf(env.skip)("age-based lifetimes", () => {
  it("lifetime = clamp(alpha × age since last update, min, max)", async () => {
    const name = "age_ttl";
    const spec = productSpec({ ttl: "1m", ageTtl: { alpha: 0.1, min: "30s", max: "1h" } }, name);
    const clock = new ManualClock(Date.now());
    const system = await buildSystem({ postgres: env.postgres!.url, redis: "private", documents: [name], clock });
    const { runtime, namespace } = system;
    const raw = system.raw();
    try {
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const lifetime = async (agoMs: number) => {
        const doc = await docs.create({ name: "aged", price: 1 });
        await admin.query(`UPDATE ${name} SET updated_at = $2 WHERE id = $1`, [doc.id, new Date(clock.now() - agoMs)]);
        await query.get(doc.id);
        await runtime.settled(); // the fill lands right behind the read
        const header = (await raw.get(entryKey(namespace, spec, doc.id)))!.split("|");
        return Number(header[6]) - Number(header[4]); // freshUntil − fetchedAt
      };
      expect(await lifetime(5 * 3_600_000)).toBe(30 * 60_000); // 5 h old → 30 min
      expect(await lifetime(1_000)).toBe(30_000); // just edited → min
      expect(await lifetime(30 * 86_400_000)).toBe(3_600_000); // a month old → max
      // An update resets it to cautious: the written-through entry gets the minimum again.
      const doc = await docs.create({ name: "reset", price: 1 });
      const updated = await docs.update(doc.id, 1, { price: 2 });
      const header = (await raw.get(entryKey(namespace, spec, updated.id)))!.split("|");
      expect(Number(header[6]) - Number(header[4])).toBe(30_000);
    } finally {
      await system.stop();
    }
  });
});

describe.skipIf(env.skip)("sliding lifetimes", () => {
  it("a key read every half-window survives several windows but not the absolute cap; an idle key expires", async () => {
    const name = "sliding";
    const spec = productSpec({ ttl: "60s", slidingTtl: "10s" }, name);
    const clock = new ManualClock(Date.now());
    const counter = new QueryCounter();
    const system = await memorySystem(clock, name, { counter });
    const { runtime } = system;
    try {
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const hot = await docs.create({ name: "hot", price: 1 });
      const idle = await docs.create({ name: "idle", price: 1 });
      await query.get(hot.id);
      await query.get(idle.id);
      await runtime.settled(); // their fills land behind the reads
      counter.reset();
      for (let t = 5_000; t < 60_000; t += 5_000) {
        clock.advance(5_000);
        await query.get(hot.id); // read every half window: still cached, 5 windows on
      }
      expect(counter.selects).toBe(0);
      clock.advance(5_000); // t = 60 s: the absolute lifetime is over, however hot
      await query.get(hot.id);
      expect(counter.selects).toBe(1);
      // The idle key was last read 60 s ago: long gone (it went after one window).
      await query.get(idle.id);
      expect(counter.selects).toBe(2);
      await runtime.settled();
      // Idle for exactly one window after a fresh fill: expired.
      clock.advance(10_000);
      await query.get(idle.id);
      expect(counter.selects).toBe(3);
    } finally {
      await system.stop();
    }
  });

  it("sliding reads never cause invalidation messages to a tracking client; writes do", async () => {
    const name = "sliding_track";
    const spec = productSpec({ ttl: "60s", slidingTtl: "5s" }, name);
    const system = await buildSystem({ postgres: env.postgres!.url, redis: "private", documents: [name] });
    const { runtime, namespace } = system;
    const subscriber = new Redis(system.redisUrl!);
    const tracker = new Redis(system.redisUrl!);
    const messages: string[] = [];
    try {
      const subscriberId = (await subscriber.client("ID")) as number;
      await subscriber.subscribe("__redis__:invalidate");
      subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => messages.push(message.toString()));
      // What push invalidation tracks: the cache namespace's prefix (buildSystem names it `<namespace>:<document>`).
      await tracker.call(
        "CLIENT",
        "TRACKING",
        "ON",
        "BCAST",
        "PREFIX",
        `${namespace}:${name}:`,
        "REDIRECT",
        String(subscriberId),
      );
      const docs = runtime.context().document.command(spec);
      const query = runtime.context().document.query(spec);
      const doc = await docs.create({ name: "watched", price: 1 });
      await query.get(doc.id); // fill: a write, one message
      await runtime.settled();
      await waitUntil(() => messages.length >= 1);
      const afterFill = messages.length;
      for (let i = 0; i < 50; i++) await query.get(doc.id); // sliding hits extend the idle clock
      expect(query.stats().l2.hits).toBe(50);
      await new Promise((resolve) => setTimeout(resolve, 200)); // give any stray message time to arrive
      expect(messages.length).toBe(afterFill);
      await docs.update(doc.id, 1, { price: 2 }); // the positive control
      await waitUntil(() => messages.length > afterFill);
      expect(messages.at(-1)).toContain(doc.id);
    } finally {
      subscriber.disconnect();
      tracker.disconnect();
      await system.stop();
    }
  });
});

describe.skipIf(env.skip)("grace (stale-if-error)", () => {
  let system: System;
  let proxy: TcpProxy;
  const name = "grace";
  const spec = productSpec({ ttl: "10s", grace: "30s" }, name);
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "memory",
      proxy: "postgres",
      documents: [name],
      clock,
      queryTimeoutMs: 500,
    });
    proxy = system.proxy!;
  });
  afterAll(async () => {
    await system?.stop();
  });

  it("serves the stale entry while Postgres is down within grace, fails after it, and recovers", async () => {
    const { runtime } = system;
    const docs = runtime.context().document.command(spec);
    const query = runtime.context().document.query(spec);
    const created = await docs.create({ name: "graceful", price: 1 });
    await query.get(created.id);
    await runtime.settled();
    clock.advance(15_000); // past freshness (10 s), within grace (10 s + 30 s)
    proxy.cut();
    const stale = await query.get(created.id);
    expect(stale).toMatchObject({ rev: 1, name: "graceful" });
    expect(query.stats().refresh.staleServes).toBe(1);
    clock.advance(30_000); // t = 45 s: past grace
    const error = await query.get(created.id).catch((e: unknown) => e);
    // The Postgres failure reaches the caller as an UnavailableError, the driver's error as its cause.
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).cause).toBeInstanceOf(Error);
    expect(query.stats().refresh.staleServes).toBe(1);
    proxy.restore();
    const fresh = await eventuallyResolves(() => query.get(created.id));
    expect(fresh).toMatchObject({ rev: 1, name: "graceful" });
    await runtime.settled();
    expect(query.stats().source.fills).toBeGreaterThanOrEqual(2);
  });

  it("a Postgres that hangs (blackholed link) counts as failed after queryTimeoutMs: stale within grace", async () => {
    const { runtime } = system;
    const docs = runtime.context().document.command(spec);
    const query = runtime.context().document.query(spec);
    const created = await docs.create({ name: "hung", price: 1 });
    await query.get(created.id);
    await runtime.settled();
    const serves = query.stats().refresh.staleServes;
    clock.advance(15_000); // past freshness, within grace
    proxy.blackhole(); // connections stay open; nothing comes back
    try {
      const stale = await query.get(created.id);
      expect(stale).toMatchObject({ rev: 1, name: "hung" });
      expect(query.stats().refresh.staleServes).toBe(serves + 1);
      clock.advance(30_000); // past grace: the timeout reaches the caller
      await expect(query.get(created.id)).rejects.toThrow(/timeout/i);
    } finally {
      proxy.restore();
    }
    expect(await eventuallyResolves(() => query.get(created.id))).toMatchObject({ rev: 1, name: "hung" });
  });
});

/**
 * The cache API around the contract (cache-api-contract.test.ts): a runtime without documents and
 * `runtime.cache(name)` outside a context; the opt-in L1 with push invalidation across two runtimes (a write there,
 * by hand, a clear or a tag invalidation drops this runtime's copies); onOperation; the null backend; the recording
 * fake; cacheModulesFromEnv.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { CacheOperation, Runtime } from "../../src/index.js";
import {
  ConfigurationError,
  cacheModulesFromEnv,
  createCacheFake,
  createRuntime,
  memoryCacheModule,
  nullCacheModule,
  RuntimeStateError,
  redisModule,
  silentLogger,
  ValidationError,
} from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { KV_PEER_SCRIPT, spawnPeer } from "../support/push-peers.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock } from "../support/strata.js";
import { rejection, thrown } from "../support/throws.js";

const env = await integrationEnv({ redis: true });
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(runtime: Runtime): Promise<Runtime> {
  await runtime.start();
  cleanups.push(() => runtime.stop());
  return runtime;
}

describe("a key/value runtime", () => {
  it("needs no documents; runtime.cache(name) works outside a context and is the same cache as ctx.cache", async () => {
    const runtime = await started(
      createRuntime({ modules: [memoryCacheModule({ caches: { sessions: { ttl: "30m" } } })], logger: silentLogger }),
    );
    const sessions = runtime.cache("sessions");
    await sessions.set("s1", { user: 1 });
    expect(await runtime.context().cache("sessions").get("s1")).toEqual({ user: 1 });
    const ttl = await sessions.ttl("s1");
    expect(ttl).toBeGreaterThan(29 * 60_000); // the route's ttl is the default
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    // One core per name: counters are shared by every view.
    await runtime.context().cache("sessions").get("s1");
    expect(sessions.stats().hits).toBe(2);
    expect(thrown(() => runtime.cache("nowhere"))).toBeInstanceOf(ConfigurationError);
    expect(thrown(() => runtime.context().document.query({ name: "x" } as never))).toBeInstanceOf(ConfigurationError);
    await runtime.stop();
    expect(thrown(() => runtime.cache("sessions"))).toBeInstanceOf(RuntimeStateError);
    expect(await rejection(sessions.get("s1"))).toBeInstanceOf(RuntimeStateError);
    expect(await rejection(sessions.getOrSet("s1", () => 1))).toBeInstanceOf(RuntimeStateError);
  });

  it("refuses bad route options for the cache API (ttl, l1) with the option's path", () => {
    const bad = [
      [() => memoryCacheModule({ caches: { c: { ttl: "soon" as never } } }), "memoryCacheModule.caches.c.ttl"],
      [() => memoryCacheModule({ caches: { c: { l1: {} as never } } }), "memoryCacheModule.caches.c.l1.ttl"],
      [
        () => redisModule({ url: "redis://x", caches: { c: { namespace: "c", l1: { ttl: "1s", capacity: 0 } } } }),
        "redisModule.caches.c.l1.capacity",
      ],
      [
        () => memoryCacheModule({ caches: { c: { l1: { ttl: "1s", policy: "fifo" as never } } } }),
        "memoryCacheModule.caches.c.l1.policy",
      ],
    ] as const;
    for (const [build, path] of bad) {
      const error = thrown(build);
      expect(error, path).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).path).toBe(path);
    }
  });
});

describe("onOperation", () => {
  it("reports each operation with hashed keys (raw on request), hit, tier and errors; nothing after unsubscribe", async () => {
    const runtime = await started(
      createRuntime({ modules: [memoryCacheModule({ caches: { c: {} } })], logger: silentLogger }),
    );
    const cache = runtime.cache("c");
    const hashed: CacheOperation[] = [];
    const raw: CacheOperation[] = [];
    const stop = cache.onOperation((op) => hashed.push(op));
    cache.onOperation((op) => raw.push(op), { rawKeys: true });
    cache.onOperation(() => {
      throw new Error("a listener's bug");
    });
    await cache.set("user:1", 1);
    await cache.get("user:1");
    await cache.getOrSet("user:2", () => 2);
    await rejection(cache.set("", 1));
    expect(raw.map((o) => [o.op, o.key, o.hit, o.tier])).toEqual([
      ["set", "user:1", undefined, undefined],
      ["get", "user:1", true, "l2"],
      ["getOrSet", "user:2", false, "loader"],
      ["set", "", undefined, undefined],
    ]);
    expect(raw[3]?.error).toBeInstanceOf(ValidationError);
    expect(hashed[0]?.key).toMatch(/^[0-9a-f]{8}$/);
    expect(hashed[0]?.key).toBe(hashed[1]?.key);
    expect(hashed[0]?.key).not.toBe(hashed[2]?.key);
    expect(hashed.every((o) => o.durationMs >= 0 && o.cache === "c")).toBe(true);
    stop();
    await cache.get("user:1");
    expect(hashed).toHaveLength(4);
    expect(raw).toHaveLength(5);
  });
});

describe("the null backend", () => {
  it("misses every read and drops every write, still refusing bad input; documents would read through", async () => {
    const runtime = await started(createRuntime({ modules: [nullCacheModule({ caches: { c: {} } })] }));
    const cache = runtime.cache("c");
    await cache.set("k", 1);
    expect(await cache.get("k")).toBeUndefined();
    expect(await cache.add("k", 1)).toBe(true);
    expect(await cache.increment("n", 5)).toBe(5);
    expect(await cache.increment("n", 5)).toBe(5);
    let calls = 0;
    await cache.getOrSet("g", () => ++calls);
    await cache.getOrSet("g", () => ++calls);
    expect(calls).toBe(2);
    expect(await rejection(cache.set("k", undefined))).toBeInstanceOf(ValidationError);
    expect(runtime.stats().caches.c?.backend).toBe("null");
  });
});

describe("the recording fake", () => {
  it("behaves like a cache and records calls for assertions", async () => {
    const clock = new ManualClock();
    const fake = createCacheFake({ clock, ttl: "1m" });
    let loads = 0;
    await fake.getOrSet("user:1", () => ({ id: ++loads }));
    await fake.getOrSet("user:1", () => ({ id: ++loads }));
    await fake.increment("visits");
    expect(loads).toBe(1);
    fake.expectCalled("getOrSet", "user:1", 2);
    fake.expectCalled("increment", undefined, 1);
    expect(fake.calls("getOrSet", "user:1").map((c) => c.tier)).toEqual(["loader", "l2"]);
    expect(() => fake.expectCalled("get", "user:1", 1)).toThrow(/expected get\(user:1\) 1 time\(s\), saw 0/);
    clock.advance(61_000);
    expect(await fake.get("user:1")).toBeUndefined(); // the fake's ttl, on its clock
    fake.reset();
    expect(fake.recorded).toEqual([]);
  });
});

describe("cacheModulesFromEnv", () => {
  it("builds one module per driver (one per Redis url) with the variables' settings", async () => {
    const modules = cacheModulesFromEnv({
      STRATA_CACHE_SCRATCH_DRIVER: "memory",
      STRATA_CACHE_SCRATCH_TTL: "2m",
      STRATA_CACHE_SCRATCH_L1_TTL: "1s",
      STRATA_CACHE_OFF_DRIVER: "null",
      PATH: "/usr/bin",
    });
    expect(modules.map((m) => m.names)).toEqual([["scratch"], ["off"]]);
    const runtime = await started(createRuntime({ modules, logger: silentLogger }));
    await runtime.cache("scratch").set("k", 1);
    expect(await runtime.cache("scratch").ttl("k")).toBeLessThanOrEqual(120_000);
    expect(await runtime.cache("scratch").get("k")).toBe(1);
    expect(runtime.cache("scratch").stats().l1Hits).toBe(0);
    expect(await runtime.cache("scratch").get("k")).toBe(1);
    expect(runtime.cache("scratch").stats().l1Hits).toBe(1);
    expect(await runtime.cache("off").get("k")).toBeUndefined();
    if (!env.skip) {
      const redis = cacheModulesFromEnv({
        STRATA_CACHE_A_URL: env.redisUrl as string,
        STRATA_CACHE_B_URL: env.redisUrl as string,
        STRATA_CACHE_B_NAMESPACE: "custom:b",
        STRATA_CACHE_B_PUSH: "true",
      });
      expect(redis.map((m) => m.names)).toEqual([["a", "b"]]);
      expect(redis[0]?.namespaces.map((n) => n.namespace)).toEqual(["a", "custom:b"]);
    }
  });

  it("names the variable in every refusal", () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ STRATA_CACHE_X_DRIVER: "mongo" }, "STRATA_CACHE_X_DRIVER"],
      [{ STRATA_CACHE_X_NAMESPACE: "x" }, "STRATA_CACHE_X_DRIVER"],
      [{ STRATA_CACHE_X_DRIVER: "redis" }, "STRATA_CACHE_X_URL"],
      [{ STRATA_CACHE_X_DRIVER: "memory", STRATA_CACHE_X_TTL: "soon" }, "STRATA_CACHE_X_TTL"],
      [{ STRATA_CACHE_X_DRIVER: "memory", STRATA_CACHE_X_NAMESPACE: "has space" }, "STRATA_CACHE_X_NAMESPACE"],
      [
        { STRATA_CACHE_X_DRIVER: "memory", STRATA_CACHE_X_L1_CAPACITY: "0", STRATA_CACHE_X_L1_TTL: "1s" },
        "STRATA_CACHE_X_L1_CAPACITY",
      ],
      [{ STRATA_CACHE_X_URL: "redis://h", STRATA_CACHE_X_PUSH: "yes" }, "STRATA_CACHE_X_PUSH"],
      [{ STRATA_CACHE_X_DRIVER: "memory", STRATA_CACHE_X_PUSH: "true" }, "STRATA_CACHE_X_PUSH"],
      [{ STRATA_CACHE_X_URLL: "redis://h" }, "STRATA_CACHE_X_URLL"],
    ];
    for (const [vars, path] of cases) {
      const error = thrown(() => cacheModulesFromEnv(vars));
      expect(error, JSON.stringify(vars)).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).path, JSON.stringify(vars)).toBe(path);
    }
    expect((thrown(() => cacheModulesFromEnv({ STRATA_CACHE_X_URLL: "r" })) as Error).message).toMatch(/_URL\?/);
  });
});

describe.skipIf(env.skip)("L1 for key/value caches, with push invalidation (two runtimes)", () => {
  const namespace = `kvl1:${randomUUID().slice(0, 8)}`;
  const build = () =>
    started(
      createRuntime({
        modules: [
          redisModule({
            url: env.redisUrl as string,
            caches: { c: { namespace, invalidationPush: true, l1: { ttl: "1h", capacity: 100 } } },
          }),
        ],
        logger: silentLogger,
      }),
    );

  it("serves repeat reads from L1; a write on the peer, by hand, a clear or a tag invalidation drops the copy", async () => {
    const [a, b] = await Promise.all([build(), build()]);
    const raw = new Redis(env.redisUrl as string);
    cleanups.push(async () => {
      const keys = await raw.keys(`${namespace}:*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    });
    await waitUntil(() => a.stats().caches.c?.push.state === "armed" && b.stats().caches.c?.push.state === "armed");
    const ca = a.cache("c");
    const cb = b.cache("c");
    await cb.set("k", "v1", { tags: ["t"] });
    expect(await ca.get("k")).toBe("v1");
    expect(await ca.get("k")).toBe("v1");
    expect(ca.stats().l1Hits).toBe(1);
    // A peer's write: the 1-hour L1 copy goes at once (only push can explain seeing v2).
    await cb.set("k", "v2", { tags: ["t"] });
    await waitUntil(async () => (await ca.get("k")) === "v2", { message: "peer write not pushed" });
    // A write by hand.
    await raw.set(`${namespace}:kv:k`, 'j"by hand"');
    await waitUntil(async () => (await ca.get("k")) === "by hand", { message: "raw write not pushed" });
    // Read-your-writes on this runtime, without waiting for push.
    await ca.set("k", "mine", { tags: ["t"] });
    expect(await ca.get("k")).toBe("mine");
    // A tag invalidation and a clear on the peer.
    expect(await ca.get("k")).toBe("mine");
    await cb.invalidateTags(["t"]);
    await waitUntil(async () => (await ca.get("k")) === undefined, { message: "tag invalidation not pushed" });
    await ca.set("k2", "x");
    expect(await ca.get("k2")).toBe("x");
    await cb.clear();
    await waitUntil(async () => (await ca.get("k2")) === undefined, { message: "clear not pushed" });
  });
});

describe.skipIf(env.skip)("L1 for key/value caches, with push invalidation (two processes)", () => {
  it("a write in this process drops the L1 copy held by another process", async () => {
    const namespace = `kvl1p:${randomUUID().slice(0, 8)}`;
    const peer = await spawnPeer({ redisUrl: env.redisUrl as string, namespace }, 30_000, KV_PEER_SCRIPT);
    cleanups.push(() => peer.stop());
    const writer = await started(
      createRuntime({
        modules: [redisModule({ url: env.redisUrl as string, caches: { c: { namespace } } })],
        logger: silentLogger,
      }),
    );
    cleanups.push(() =>
      writer
        .cache("c")
        .deleteMany(["k"])
        .then(() => writer.stop()),
    );
    await waitUntil(() => peer.call<boolean>("armed"), { message: "peer never armed" });
    await writer.cache("c").set("k", "v1");
    expect(await peer.call("get", { key: "k" })).toBe("v1");
    // The set's own push can reach the peer after that read filled its L1, and drop it (a loaded machine): read again
    // until the peer's L1 answers (ttl 1 h).
    await waitUntil(
      async () => (await peer.call("get", { key: "k" })) === "v1" && (await peer.call<number>("l1Hits")) >= 1,
      { message: "the peer's L1 never answered" },
    );
    await writer.cache("c").set("k", "v2");
    await waitUntil(async () => (await peer.call("get", { key: "k" })) === "v2", {
      message: "the other process kept its L1 copy",
    });
  }, 60_000);
});

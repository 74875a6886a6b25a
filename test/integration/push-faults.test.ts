/**
 * Push invalidation under faults, each on a private redis-server: a killed subscriber connection, a restarted
 * server, a paused server (caught by the heartbeat), and servers or clients that cannot push (TTL-only, logged once).
 * Every loss must flush B's L1 and keep it closed until the channel re-arms; then invalidations work again.
 */
import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { createRuntime, postgresModule, redisModule } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import {
  FAST_TIMING,
  peekRev,
  pushProducts,
  pushStats,
  RecordingLogger,
  waitForState,
  warm,
} from "../support/push-runtime.js";
import { startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe.skipIf(env.skip)("push invalidation under faults", () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A private server with runtimes A and B on it (same namespace), both armed. */
  const pair = async (args: string[] = []) => {
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      redisServer: { args },
      push: FAST_TIMING,
    });
    cleanup.push(() => system.stop());
    const a = system.runtime;
    const b = await system.startPeer();
    expect(pushStats(b).state).toBe("armed");
    return { redis: system.redisServer!, a, b };
  };

  /** A write on A drops B's warm L1 entry again (the channel works end to end). */
  const invalidationWorks = async (a: Runtime, b: Runtime) => {
    const docs = a.context().document.command(pushProducts);
    const created = await docs.create({ name: "probe", price: 1 });
    await warm(b, pushProducts, created.id, 10_000);
    await docs.update(created.id, created.rev, { price: 2 });
    await waitUntil(() => peekRev(b, pushProducts, created.id) === undefined, {
      timeoutMs: 2_000,
      intervalMs: 1,
      message: "B's L1 entry survived A's write",
    });
  };

  const warmOne = async (a: Runtime, b: Runtime) => {
    const created = await a.context().document.command(pushProducts).create({ name: "warm", price: 1 });
    await warm(b, pushProducts, created.id);
    return created.id;
  };

  it("CLIENT KILL TYPE pubsub: L1 flushed at once, re-armed within a second, invalidations work again", async () => {
    const { redis, a, b } = await pair();
    const id = await warmOne(a, b);
    const before = pushStats(b);
    const killedAt = performance.now();
    await redis.cli("CLIENT", "KILL", "TYPE", "pubsub");
    await waitUntil(() => pushStats(b).disarmings > before.disarmings, {
      timeoutMs: 1_000,
      intervalMs: 1,
      message: "the kill was never noticed",
    });
    expect(pushStats(b)).toMatchObject({ lastDisarm: "close", flushes: { disarm: before.flushes.disarm + 1 } });
    expect(pushStats(b).epoch).toBeGreaterThan(before.epoch);
    expect(peekRev(b, pushProducts, id)).toBeUndefined();
    await waitUntil(() => pushStats(b).state === "armed", {
      timeoutMs: Math.max(1, 1_000 - (performance.now() - killedAt)),
      intervalMs: 2,
      message: "not re-armed within a second of the kill",
    });
    expect(pushStats(b).armings).toBe(before.armings + 1);
    await invalidationWorks(a, b);
  });

  it("a foreign payload on __redis__:invalidate is a protocol error: disarmed, flushed, re-armed", async () => {
    const { redis, a, b } = await pair();
    const id = await warmOne(a, b);
    const before = pushStats(b);
    // Anyone allowed to PUBLISH can do this; the channel must not trust it, nor stay broken.
    await redis.cli("PUBLISH", "__redis__:invalidate", "not-a-key-list");
    await waitUntil(() => pushStats(b).disarmings > before.disarmings, {
      timeoutMs: 1_000,
      intervalMs: 1,
      message: "the foreign payload was never noticed",
    });
    expect(pushStats(b)).toMatchObject({ lastDisarm: "protocol", flushes: { disarm: before.flushes.disarm + 1 } });
    expect(peekRev(b, pushProducts, id)).toBeUndefined();
    await waitUntil(() => pushStats(b).state === "armed", {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "not re-armed after the protocol error",
    });
    await invalidationWorks(a, b);
  });

  it("redis-server restart: disarmed and flushed, re-armed once it is back, invalidations work again", async () => {
    const { redis, a, b } = await pair();
    const id = await warmOne(a, b);
    const restart = redis.restart();
    await waitForState(b, "disarmed", 2_000);
    expect(peekRev(b, pushProducts, id)).toBeUndefined();
    await restart;
    await waitForState(b, "armed", 1_000); // reconnect cap is 200 ms in tests
    await invalidationWorks(a, b);
  });

  it("a paused server (kill -STOP) past the heartbeat: disarmed and flushed; reads skip L1; resume re-arms", async () => {
    const { redis, a, b } = await pair();
    const id = await warmOne(a, b);
    await redis.pause();
    cleanup.push(() => redis.resume());
    // The heartbeat (200 ms interval, 400 ms timeout) is the only thing that can notice a silent server.
    await waitForState(b, "disarmed", 3_000);
    expect(pushStats(b).lastDisarm).toBe("heartbeat");
    expect(peekRev(b, pushProducts, id)).toBeUndefined();
    // Disarmed: a read falls through (L2 times out) and must not fill L1.
    const doc = await b.context().document.query(pushProducts).get(id);
    expect(doc.rev).toBe(1);
    expect(peekRev(b, pushProducts, id)).toBeUndefined();
    await redis.resume();
    await waitForState(b, "armed", 3_000);
    await invalidationWorks(a, b);
  });

  it("a document first used while disarmed starts with L1 closed, and opens when the channel re-arms", async () => {
    const { redis, a, b } = await pair();
    // B has not used the document yet; A creates one while the channel is down.
    await redis.pause();
    cleanup.push(() => redis.resume());
    await waitForState(b, "disarmed", 3_000);
    const created = await a.context().document.command(pushProducts).create({ name: "late", price: 1 });
    const query = b.context().document.query(pushProducts);
    await query.get(created.id);
    await b.settled();
    await query.get(created.id);
    await b.settled();
    expect(query.peek(created.id)).toBeUndefined();
    await redis.resume();
    await waitForState(b, "armed", 3_000);
    await warm(b, pushProducts, created.id, 10_000);
  });

  it("tracking refused (ACL denies CLIENT TRACKING): TTL-only, logged once, start and reads unaffected", async () => {
    const logger = new RecordingLogger();
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      redisServer: { args: ["--user", "default", "on", "nopass", "~*", "&*", "+@all", "-client|tracking"] },
      push: FAST_TIMING,
      logger,
    });
    cleanup.push(() => system.stop());
    const b = system.runtime;
    const stats = pushStats(b);
    expect(stats.state).toBe("unsupported");
    expect(stats.unsupportedReason).toMatch(/NOPERM|permission/i);
    const unavailable = logger.warnings.filter((w) => /push invalidation unavailable/.test(w.message));
    expect(unavailable).toHaveLength(1);
    // TTL-only, like push off: reads work and fill L1.
    const created = await b.context().document.command(pushProducts).create({ name: "ttl-only", price: 1 });
    const query = b.context().document.query(pushProducts);
    expect((await query.get(created.id)).rev).toBe(1);
    await b.settled();
    expect(query.peek(created.id)?.rev).toBe(1);
    expect(logger.warnings.filter((w) => /push invalidation/.test(w.message))).toHaveLength(1);
  });

  it("a Cluster client that never reaches its cluster: push stays disarmed (L1 bypassed), start and reads unaffected", async () => {
    const redis = await startRedis(); // not a cluster: the client can never serve reads, which must fall through
    cleanup.push(() => redis.stop());
    const cluster = new Cluster([{ host: redis.host, port: redis.port }], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: () => null,
    });
    cluster.on("error", () => {});
    cleanup.push(() => cluster.disconnect());
    const logger = new RecordingLogger();
    const runtime = createRuntime({
      modules: [
        postgresModule({ url: env.postgres!.url, documents: { products: { table: "products" } } }),
        redisModule({
          client: cluster,
          caches: { products: { namespace: `pf:${randomUUID().slice(0, 8)}`, invalidationPush: true } },
          invalidation: FAST_TIMING,
        }),
      ],
      logger,
    });
    await runtime.start();
    cleanup.push(() => runtime.stop());
    // No node known, so no subscriber armed: the channel cannot vouch for any write, and L1 stays closed.
    expect(pushStats(runtime)).toMatchObject({ state: "disarmed", armings: 0, nodes: {} });
    const created = await runtime.context().document.command(pushProducts).create({ name: "c", price: 1 });
    const query = runtime.context().document.query(pushProducts);
    expect((await query.get(created.id)).rev).toBe(1);
    await runtime.settled();
    expect((await query.get(created.id)).rev).toBe(1);
    await runtime.settled();
    expect(query.peek(created.id)).toBeUndefined();
  });
});

/**
 * Push invalidation between two runtimes sharing Postgres and Redis (bounded staleness across replicas):
 * a write on A drops B's L1 entry at once; deletes, out-of-band writes and FLUSHALL too; other namespaces do not;
 * with push off the same write is not seen by B's L1; the read/invalidate race; a randomized staleness run.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { FAST_TIMING, peekRev, pushProducts, pushStats, waitForState, warm } from "../support/push-runtime.js";
import type { RedisProcess } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productSpec, type RuntimeWiring, sleep } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";
import { createProxy, proxiedUrl } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });
const gadgets = productSpec({ ttl: "5m", l1: { ttl: "1m", capacity: 100 } }, "gadgets");

describe.skipIf(env.skip)("push invalidation across runtimes", () => {
  let system: System;
  let redis: RedisProcess;
  let raw: Redis;
  let a: Runtime;
  let b: Runtime;
  const namespace = `push:${randomUUID().slice(0, 8)}`;
  const ns = `${namespace}:products`;
  /** Another runtime on the system's server and namespace (push on, fast timing), with these overrides. */
  const start = (overrides: Partial<RuntimeWiring> = {}) => system.startPeer(overrides);

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      namespace,
      documents: ["products", "gadgets"],
      push: FAST_TIMING,
    });
    redis = system.redisServer!;
    raw = system.raw();
    a = system.runtime;
    b = await start();
  });
  afterAll(async () => {
    await system?.stop();
  });

  /** Every invalidation sent before this call has reached `runtime` once this resolves (one connection, in order). */
  const drain = async (runtime: Runtime) => {
    const before = pushStats(runtime).invalidations;
    await raw.set(`${ns}:kv:drain`, randomUUID());
    await waitUntil(() => pushStats(runtime).invalidations > before, {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "drain marker never arrived",
    });
  };

  it("both runtimes arm at start, and runtime.stats() says so per cache", async () => {
    expect(pushStats(a).state).toBe("armed");
    expect(pushStats(b)).toMatchObject({ state: "armed", armings: 1, disarmings: 0, epoch: 0 });
    expect(pushStats(b, "gadgets").state).toBe("armed");
    const clients = await raw.client("LIST");
    expect(String(clients).match(/name=stratacache:invalidation/g)?.length).toBe(2);
  });

  it("a write on A drops B's L1 entry at once; B's next read returns the new rev", async () => {
    const docs = a.context().document.command(pushProducts);
    const created = await docs.create({ name: "Widget", price: 10 });
    expect(await warm(b, pushProducts, created.id)).toBe(1);
    const dropped = pushStats(b).dropped;
    await docs.update(created.id, created.rev, { price: 12 });
    await waitUntil(() => peekRev(b, pushProducts, created.id) === undefined, {
      timeoutMs: 2_000,
      intervalMs: 1,
      message: "B's L1 still holds rev 1",
    });
    expect(pushStats(b).dropped).toBeGreaterThan(dropped);
    const fresh = await b.context().document.query(pushProducts).get(created.id);
    expect(fresh).toMatchObject({ rev: 2, price: 12 });
  });

  it("a delete on A drops B's L1 entry; B then finds nothing", async () => {
    const docs = a.context().document.command(pushProducts);
    const created = await docs.create({ name: "Doomed", price: 1 });
    await warm(b, pushProducts, created.id);
    await docs.delete(created.id, created.rev);
    await waitUntil(() => peekRev(b, pushProducts, created.id) === undefined, {
      timeoutMs: 2_000,
      intervalMs: 1,
      message: "B's L1 still holds the deleted document",
    });
    expect(await b.context().document.query(pushProducts).find(created.id)).toBeUndefined();
  });

  it("writes in another namespace do not touch B's L1", async () => {
    const other = await start({ namespace: `${namespace}-other` });
    const mine = await a.context().document.command(pushProducts).create({ name: "Mine", price: 1 });
    await warm(b, pushProducts, mine.id);
    const before = pushStats(b).invalidations;
    // Same table, same id, other namespace: its entry key differs only in the namespace.
    await other.context().document.query(pushProducts).get(mine.id);
    await other.context().document.command(pushProducts).update(mine.id, mine.rev, { price: 99 });
    await drain(b);
    expect(pushStats(b).invalidations).toBe(before + 1); // the drain marker only
    expect(peekRev(b, pushProducts, mine.id)).toBe(1);
  });

  it("an out-of-band SET or DEL on an entry key drops B's L1 entry", async () => {
    const docs = a.context().document.command(pushProducts);
    const one = await docs.create({ name: "Set", price: 1 });
    const two = await docs.create({ name: "Del", price: 2 });
    await warm(b, pushProducts, one.id);
    await warm(b, pushProducts, two.id);
    expect(peekRev(b, pushProducts, one.id)).toBe(1);
    expect(peekRev(b, pushProducts, two.id)).toBe(1);
    const droppedBefore = b.stats().caches.products!.push.dropped;
    const key = entryKey(namespace, pushProducts, one.id);
    await raw.set(key, (await raw.get(key)) as string); // same value: still a write
    await raw.del(entryKey(namespace, pushProducts, two.id));
    await waitUntil(
      () => peekRev(b, pushProducts, one.id) === undefined && peekRev(b, pushProducts, two.id) === undefined,
      { timeoutMs: 2_000, intervalMs: 1, message: "out-of-band writes did not reach B's L1" },
    );
    expect(peekRev(b, pushProducts, one.id)).toBeUndefined();
    expect(peekRev(b, pushProducts, two.id)).toBeUndefined();
    expect(b.stats().caches.products!.push.dropped - droppedBefore).toBe(2);
  });

  it("with push off, the same write on A is not seen by B's L1 (push is what drops it)", async () => {
    const offA = await start({ invalidationPush: false });
    const offB = await start({ invalidationPush: false });
    expect(pushStats(offB).state).toBe("off");
    const docs = offA.context().document.command(pushProducts);
    const created = await docs.create({ name: "Stale", price: 10 });
    const query = offB.context().document.query(pushProducts);
    await query.get(created.id);
    await offB.settled(); // L1 takes the document once its fill has landed
    expect(peekRev(offB, pushProducts, created.id)).toBe(1); // without push, the fill stays in L1 at once
    await docs.update(created.id, created.rev, { price: 12 });
    await drain(b); // the write has reached every subscriber by now
    await sleep(100);
    expect(peekRev(offB, pushProducts, created.id)).toBe(1);
    expect((await query.get(created.id)).rev).toBe(1); // stale until l1.ttl: the bound without push
    // While B (push on) has dropped its copy of the same kind of write in the tests above.
  });

  it("the race: an invalidation that overtakes a delayed L2 reply keeps that reply out of L1", async () => {
    const proxy = await createProxy({ host: redis.host, port: redis.port });
    try {
      // B's data link and channel both go through the proxy; no heartbeat may sit in the delayed queue.
      const slow = await start({
        redis: proxiedUrl(redis.url, proxy),
        redisTimeoutMs: 5_000,
        pushTiming: { heartbeatIntervalMs: 30_000, heartbeatTimeoutMs: 30_000 },
      });
      const docs = a.context().document.command(pushProducts);
      const created = await docs.create({ name: "Racy", price: 10 });
      await a.context().document.query(pushProducts).get(created.id); // rev 1 in L2, not in slow's L1
      const gets = async () => Number(/cmdstat_get:calls=(\d+)/.exec(await raw.info("commandstats"))?.[1] ?? 0);
      const getsBefore = await gets();
      proxy.delay(300);
      const read = slow.context().document.query(pushProducts).get(created.id);
      // Redis answered the GET with rev 1; that reply now waits in the proxy.
      await waitUntil(async () => (await gets()) > getsBefore, {
        timeoutMs: 3_000,
        intervalMs: 5,
        message: "the GET never reached Redis",
      });
      await sleep(20);
      proxy.delay(0); // the invalidation travels without delay and overtakes the reply
      const received = pushStats(slow).invalidations;
      await docs.update(created.id, created.rev, { price: 12 });
      await waitUntil(() => pushStats(slow).invalidations > received, {
        timeoutMs: 3_000,
        intervalMs: 1,
        message: "the invalidation never reached the slow runtime",
      });
      const stale = await read;
      expect(stale.rev).toBe(1); // the read began before the write: rev 1 is a fair answer…
      expect(peekRev(slow, pushProducts, created.id)).toBeUndefined(); // …but it must not be cached
      expect((await slow.context().document.query(pushProducts).get(created.id)).rev).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("documents registered after arming start armed; FLUSHALL clears every L1", async () => {
    const product = await a.context().document.command(pushProducts).create({ name: "P", price: 1 });
    const gadget = await a.context().document.command(gadgets).create({ name: "G", price: 2 });
    await warm(b, pushProducts, product.id);
    await warm(b, gadgets, gadget.id); // gadgets registers on B only now, while armed: L1 fills
    await warm(a, gadgets, gadget.id);
    const flushes = pushStats(b).flushes.flushall;
    await raw.flushall();
    await waitUntil(
      () =>
        peekRev(b, pushProducts, product.id) === undefined &&
        peekRev(b, gadgets, gadget.id) === undefined &&
        peekRev(a, gadgets, gadget.id) === undefined,
      { timeoutMs: 2_000, intervalMs: 1, message: "FLUSHALL left L1 entries behind" },
    );
    expect(pushStats(b).flushes.flushall).toBe(flushes + 1);
    expect(pushStats(b).state).toBe("armed");
  });

  it("randomized: every B read that starts 50 ms after A's write resolved sees it", async () => {
    const docs = a.context().document.command(pushProducts);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await docs.create({ name: `r${i}`, price: 0 })).id);
    for (const id of ids) await warm(b, pushProducts, id);
    const WINDOW_MS = 50;
    /** id → [resolvedAt, rev] of every write A committed, in order. */
    const committed = new Map<string, Array<[number, number]>>(ids.map((id) => [id, [[0, 1]]]));
    const revOf = new Map<string, number>(ids.map((id) => [id, 1]));
    const deadline = performance.now() + 3_000;
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = () => ids[Math.floor(random() * ids.length)] as string;
    const violations: string[] = [];
    let reads = 0;
    let writes = 0;
    const writer = async () => {
      while (performance.now() < deadline) {
        const id = pick();
        const updated = await docs.update(id, revOf.get(id) as number, { price: Math.floor(random() * 1000) });
        revOf.set(id, updated.rev);
        committed.get(id)?.push([performance.now(), updated.rev]);
        writes++;
        await sleep(Math.floor(random() * 8));
      }
    };
    const reader = async () => {
      const query = b.context().document.query(pushProducts);
      while (performance.now() < deadline) {
        const id = pick();
        const startedAt = performance.now();
        const doc = await query.get(id);
        reads++;
        const mustSee = (committed.get(id) ?? []).filter(([at]) => at + WINDOW_MS < startedAt).at(-1)?.[1] ?? 1;
        if (doc.rev < mustSee) violations.push(`${id}: read rev ${doc.rev}, rev ${mustSee} resolved > 50 ms before`);
        if (random() < 0.2) await sleep(1);
      }
    };
    await Promise.all([writer(), reader(), reader(), reader()]);
    expect(writes).toBeGreaterThan(50);
    expect(reads).toBeGreaterThan(500);
    expect(violations).toEqual([]);
    expect(b.context().document.query(pushProducts).stats().l1?.hits).toBeGreaterThan(0);
  });

  it("stop() closes the channel connections and leaves nothing reconnecting", async () => {
    const extra = await start();
    await waitForState(extra, "armed", 2_000);
    const named = async () => String(await raw.client("LIST")).match(/name=stratacache:invalidation/g)?.length ?? 0;
    const before = await named();
    await extra.stop();
    await waitUntil(async () => (await named()) === before - 1, {
      timeoutMs: 2_000,
      message: "the channel connection outlived stop()",
    });
    await sleep(300); // longer than the reconnect cap: a stray reconnect would show up here
    expect(await named()).toBe(before - 1);
  });
});

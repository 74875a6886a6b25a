/**
 * The L1 tier wired through the coordinator, over real Postgres and Redis: repeated reads never leave the process,
 * local writes are visible at once, another runtime's write is visible here within l1.ttl (push off). (A fill that
 * raced a local write never caching the old version is explored in test/property/coordinator.property.test.ts.)
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock, productSpec } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe.skipIf(env.skip).each(["lru", "tinylfu"] as const)("L1 (%s) through the coordinator", (policy) => {
  const name = `l1_${policy}`;
  const spec = productSpec({ ttl: "5m", l1: { ttl: "2s", capacity: 100, policy } }, name);
  let system: System;
  let raw: Redis;
  let a: Runtime;
  let b: Runtime;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    system = await buildSystem({ postgres: env.postgres!.url, redis: "private", documents: [name], clock });
    raw = system.raw();
    a = system.runtime;
    b = await system.startPeer();
  });
  afterAll(async () => {
    await system?.stop();
  });

  const redisReads = async () => {
    const info = await raw.info("commandstats");
    let total = 0;
    for (const command of ["get", "mget", "evalsha", "eval"]) {
      const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
      total += match ? Number(match[1]) : 0;
    }
    return total;
  };

  it("serves repeated reads from L1: no Redis call, the same frozen object every time", async () => {
    const docs = a.context().document.command(spec);
    const query = a.context().document.query(spec);
    const created = await docs.create({ name: "hot", price: 1 });
    const missesBefore = query.stats().l1!.misses;
    const first = await query.get(created.id);
    expect(query.stats().l1!.misses - missesBefore).toBe(1); // one lookup, one miss — not one per layer
    await a.settled(); // L1 takes it once its fill has landed, right behind the read
    const upper = await query.get(created.id.toUpperCase()); // a non-canonical id finds the same entry
    expect(upper).toBe(first);
    const before = await redisReads();
    const hitsBefore = query.stats().l1!.hits;
    for (let i = 0; i < 100; i++) expect(await query.get(created.id)).toBe(first);
    expect(await redisReads()).toBe(before);
    expect(query.stats().l1!.hits - hitsBefore).toBe(100);
    expect(query.peek(created.id)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // Inside a transaction reads are Postgres-only: peek sees no L1 there.
    await a.context().transaction(async (tx) => {
      expect(tx.document.query(spec).peek(created.id)).toBeUndefined();
    });
  });

  it("getMany takes what L1 has and asks L2 only for the rest", async () => {
    const docs = a.context().document.command(spec);
    const query = a.context().document.query(spec);
    const x = await docs.create({ name: "x", price: 1 });
    const y = await docs.create({ name: "y", price: 2 });
    await query.get(x.id); // x in L1 (once its fill lands, right behind the read)
    await a.settled();
    const l1Before = query.stats().l1!.hits;
    const got = await query.getMany([x.id, y.id, x.id]);
    expect(got.map((d) => d.name)).toEqual(["x", "y", "x"]);
    expect(query.stats().l1!.hits - l1Before).toBe(1);
    await a.settled();
    expect(query.peek(y.id)?.name).toBe("y"); // the batch filled L1 too
  });

  it("a write on this runtime is visible at once, in every context", async () => {
    const query = a.context().document.query(spec);
    const created = await a.context().document.command(spec).create({ name: "w", price: 1 });
    await query.get(created.id);
    await a.settled();
    expect(query.peek(created.id)?.price).toBe(1);
    await a.context().document.command(spec).update(created.id, 1, { price: 2 });
    expect(query.peek(created.id)).toBeUndefined(); // invalidated before update resolved
    expect((await query.get(created.id)).price).toBe(2);
    expect((await a.context().document.query(spec).get(created.id)).price).toBe(2);
  });

  it("another runtime's write is visible here after l1.ttl at most (push off)", async () => {
    const onB = b.context().document.query(spec);
    const created = await a.context().document.command(spec).create({ name: "remote", price: 1 });
    expect((await onB.get(created.id)).price).toBe(1);
    await b.settled(); // B caches rev 1 in its L1 once the fill has landed, right behind the read
    await a.context().document.command(spec).update(created.id, 1, { price: 2 });
    expect((await onB.get(created.id)).price).toBe(1); // within the staleness budget: B's L1 still answers
    clock.advance(2_001); // past l1.ttl
    expect((await onB.get(created.id)).price).toBe(2); // from L2, which the write went through
    expect(onB.stats().l1!.expirations).toBeGreaterThanOrEqual(1);
  });

  it("a delete drops the local L1 entry at once", async () => {
    const docs = a.context().document.command(spec);
    const query = a.context().document.query(spec);
    const created = await docs.create({ name: "gone", price: 1 });
    await query.get(created.id);
    await a.settled();
    await docs.delete(created.id);
    expect(query.peek(created.id)).toBeUndefined();
    expect(await query.find(created.id)).toBeUndefined();
  });

  it("reports L1Stats in query.stats() and runtime.stats()", async () => {
    const stats = a.context().document.query(spec).stats().l1!;
    expect(stats.capacity).toBe(100);
    expect(stats.hits + stats.misses).toBeGreaterThan(0);
    expect(stats.hitRate).toBeCloseTo(stats.hits / (stats.hits + stats.misses), 10);
    expect(a.stats().documents[name]?.l1).toEqual(stats);
  });
});

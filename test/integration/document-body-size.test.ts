/**
 * Document bodies over the cache's `maxValueBytes` are not cached, on real Redis and on the in-process L2: a read
 * is served from Postgres (counted as `tooLarge`, not an error), and an update that makes a cached document too
 * big replaces its entry with a tombstone, so no replica is ever served the older, smaller version.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productSpec } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });
const products = productSpec({ ttl: "5m" });
const LIMIT = 300;

describe.skipIf(env.skip).each(["redis", "memory"] as const)("document bodies over maxValueBytes (%s)", (kind) => {
  let system: System;
  let namespace: string;
  let writer: Runtime;
  let reader: Runtime;
  let raw: Redis;

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: kind === "redis" ? { url: env.redisUrl! } : "memory",
      maxValueBytes: LIMIT,
    });
    ({ namespace, runtime: writer } = system);
    reader = kind === "redis" ? await system.startPeer() : writer;
    raw = new Redis(env.redisUrl!);
  });
  afterAll(async () => {
    await system?.stop();
    await raw?.quit();
  });

  it("a document too big to cache is served from Postgres every time and counted, not cached", async () => {
    const ctx = writer.context();
    const big = await ctx.document.command(products).create({ name: "x".repeat(LIMIT), price: 1 });
    const query = ctx.document.query(products);
    const before = query.stats().source;
    expect(await query.get(big.id)).toMatchObject({ name: big.name });
    await writer.settled(); // otherwise the next read joins this one until its (skipped) fill settles
    expect(await query.get(big.id)).toMatchObject({ name: big.name });
    await writer.settled();
    const after = query.stats().source;
    expect(after.fetches - before.fetches).toBe(2);
    expect(after.tooLarge - before.tooLarge).toBe(2);
    expect(after.fills - before.fills).toBe(0);
    expect(query.stats().l2.errors).toBe(0);
    if (kind === "redis") expect(await raw.exists(entryKey(namespace, products, big.id))).toBe(0);
    // A small one still caches.
    const small = await ctx.document.command(products).create({ name: "s", price: 1 });
    await query.get(small.id);
    await writer.settled();
    expect(query.stats().source.fills - after.fills).toBe(1);
  });

  it("an update that makes a cached document too big leaves no older version in L2", async () => {
    const ctx = writer.context();
    const doc = await ctx.document.command(products).create({ name: "small", price: 1 });
    await ctx.document.query(products).get(doc.id); // cached at rev 1
    const grown = await ctx.document.command(products).update(doc.id, 1, { name: "y".repeat(LIMIT) });
    expect(ctx.document.query(products).stats().source.tooLarge).toBeGreaterThanOrEqual(1);
    expect(await reader.context().document.query(products).get(doc.id)).toMatchObject({ rev: 2, name: grown.name });
    expect(await ctx.document.query(products).get(doc.id)).toMatchObject({ rev: 2 });
  });
});

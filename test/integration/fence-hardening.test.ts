/**
 * Entries the fence could never replace (issue 10 §4: no stale fill, every committed write is seen, bad data in
 * Redis costs misses and never a stuck key), end to end over real
 * Postgres and private Redis servers: forged and planted keys, write-through retries across a Redis restart, and
 * incarnations across `TRUNCATE … RESTART IDENTITY`.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { encodeEntry } from "../../src/l2/entry-envelope.js";
import { idKey, versionFloorPrefix } from "../../src/l2/key-layout.js";
import { waitUntil } from "../support/eventually.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productSpec } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });
const products = productSpec({ ttl: "5m" });

/** A decodable, well-formed entry claiming version (incarnation, rev) of `id`, as an attacker would write it. */
function forged(id: string, incarnation: number, rev: number, freshUntil: number, name: string): string {
  const body = JSON.stringify({ name, price: 666, id, rev, createdAt: 0, updatedAt: 0 });
  return encodeEntry(products.fingerprint, { incarnation, rev, fetchedAt: Date.now(), delta: 1, freshUntil, body });
}

describe.skipIf(env.skip)("bad data in Redis costs misses, never a stuck key", () => {
  let raw: Redis;
  let runtime: Runtime;
  const namespace = `fh:${randomUUID().slice(0, 8)}`;
  const keyOf = (id: string) => entryKey(namespace, products, id);
  const floorOf = (id: string) => idKey(versionFloorPrefix(`${namespace}:products`, products.fingerprint), id);
  /**
   * The incarnation of `id` as cached (read once so that it is), to forge a version right above the real one. The
   * read's fill is awaited: until it settles, a read of the same id joins this one (single flight) and never looks at
   * what the test plants next.
   */
  const incarnationOf = async (runtime: Runtime, id: string) => {
    await runtime.context().document.query(products).get(id);
    await runtime.settled();
    return Number(/^s1\|[^|]+\|(\d+)\|/.exec((await raw.get(keyOf(id))) ?? "")?.[1]);
  };

  let system: System;
  beforeAll(async () => {
    system = await buildSystem({ postgres: env.postgres!.url, redis: "private", namespace });
    ({ runtime } = system);
    raw = system.raw();
  });
  afterAll(() => system?.stop());

  it("create clears an older entry left for its id (no tombstone: TRUNCATE, restore, planted) and raises the floor", async () => {
    const ctx = runtime.context();
    const id = randomUUID();
    // An earlier life of this id, cached with a plausible lifetime, whose row vanished without a tombstone.
    await raw.set(keyOf(id), forged(id, 1, 5, Date.now() + 60_000, "Ghost"), "PX", 60_000);
    const created = await ctx.document.command(products).create({ id, name: "Widget", price: 10 });
    expect(await raw.exists(keyOf(id))).toBe(0);
    expect(await raw.get(floorOf(id))).toMatch(/^\d+\|1$/); // a writer's floor: a slow fill of the old life is fenced
    expect(await ctx.document.query(products).get(id)).toMatchObject({ id, rev: 1, name: "Widget" });
    await runtime.settled(); // the fill lands right behind the read
    // The first read filled the new version, as read-through does.
    expect(created.rev).toBe(1);
    expect(await raw.get(keyOf(id))).toMatch(/^s1\|[^|]+\|\d+\|1\|/);
  });

  it("never serves a forged entry that claims to stay fresh longer than any lifetime we give", async () => {
    const ctx = runtime.context();
    const doc = await ctx.document.command(products).create({ name: "Real", price: 1 });
    const day = 86_400_000;
    const incarnation = await incarnationOf(runtime, doc.id);
    await raw.set(keyOf(doc.id), forged(doc.id, incarnation, 99, Date.now() + day, "Forged"), "PX", day);
    const query = ctx.document.query(products);
    expect(await query.get(doc.id)).toMatchObject({ name: "Real", rev: 1 });
    expect((await query.getMany([doc.id]))[0]).toMatchObject({ name: "Real", rev: 1 });
    await runtime.settled();
    // The fill that followed could not replace a "newer" version, but cut its life down to the bound.
    expect(await raw.pttl(keyOf(doc.id))).toBeLessThanOrEqual(5 * 60_000);
  });

  it("replaces a forged, planted entry without a TTL on the next write: never served after a real update", async () => {
    const ctx = runtime.context();
    const docs = ctx.document.command(products);
    const doc = await docs.create({ name: "Real", price: 1 });
    // Plausibly fresh (one minute), far newer version, no expiry at all: something the library never writes.
    const incarnation = await incarnationOf(runtime, doc.id);
    await raw.set(keyOf(doc.id), forged(doc.id, incarnation, 99, Date.now() + 60_000, "Forged"));
    await docs.update(doc.id, 1, { price: 2 });
    expect(await ctx.document.query(products).get(doc.id)).toMatchObject({ name: "Real", price: 2, rev: 2 });
  });

  it("drops a hand-planted floor without a TTL instead of rejecting every write forever", async () => {
    const ctx = runtime.context();
    const docs = ctx.document.command(products);
    const doc = await docs.create({ name: "Floored", price: 1 });
    const incarnation = await incarnationOf(runtime, doc.id);
    await raw.set(floorOf(doc.id), `${incarnation}|T`);
    await docs.update(doc.id, 1, { price: 2 });
    expect(await ctx.document.query(products).get(doc.id)).toMatchObject({ price: 2, rev: 2 });
    await raw.del(keyOf(doc.id));
    await raw.set(floorOf(doc.id), `${incarnation}|T`);
    expect(await ctx.document.query(products).get(doc.id)).toMatchObject({ price: 2, rev: 2 });
    await runtime.settled();
    // The fill after that miss landed: the planted floor no longer keeps the id out of the cache.
    expect(await raw.get(keyOf(doc.id))).toMatch(/\|2\|\d+\|\d+\|\d+\|/);
  });
});

describe.skipIf(env.skip)("write-through retries after a Redis restart", () => {
  let system: System;
  let raw: Redis;
  afterEach(async () => {
    raw?.disconnect();
    await system?.stop();
  });

  it("a retry writes what is committed now: an older version never lands over a newer one", async () => {
    // Replica A reaches Redis through the proxy, replica B (a peer) directly; same database and namespace, no L1.
    system = await buildSystem({ postgres: env.postgres!.url, redis: "private", proxy: "redis", redisTimeoutMs: 200 });
    const { namespace, runtime: a } = system;
    const proxy = system.proxy!;
    const redis = system.redisServer!;
    raw = new Redis(redis.url);
    const b = await system.startPeer();
    const doc = await b.context().document.command(products).create({ name: "Race", price: 1 });

    // A commits rev 2 while its Redis link is cut: its write-through fails and goes to the background retrier.
    proxy.cut();
    await a.context().document.command(products).update(doc.id, 1, { price: 2 });
    expect(a.context().document.query(products).stats().source.writeThroughFailures).toBeGreaterThan(0);
    // B commits rev 3 and writes it through; then Redis restarts and forgets every entry and version floor.
    await b.context().document.command(products).update(doc.id, 2, { price: 3 });
    await redis.restart();
    raw.disconnect();
    raw = new Redis(redis.url);
    expect(await raw.exists(entryKey(namespace, products, doc.id))).toBe(0);

    // A's link comes back; its retry lands (the only writer left) — and must land rev 3, not its own rev 2.
    proxy.restore();
    await waitUntil(async () => (await raw.exists(entryKey(namespace, products, doc.id))) === 1, {
      timeoutMs: 20_000,
      intervalMs: 20,
      message: "timed out waiting for A's retry",
    });
    expect(await raw.get(entryKey(namespace, products, doc.id))).toMatch(/^s1\|[^|]+\|\d+\|3\|/);
    expect(await b.context().document.query(products).get(doc.id)).toMatchObject({ rev: 3, price: 3 });
  });
});

describe.skipIf(env.skip)("incarnations across TRUNCATE … RESTART IDENTITY", () => {
  let system: System;
  let runtime: Runtime;
  let client: pg.Client;

  beforeAll(async () => {
    system = await buildSystem({ postgres: env.postgres!.url, redis: "private", documents: ["truncated"] });
    ({ runtime } = system);
    client = new pg.Client({ connectionString: env.postgres!.url });
    await client.connect();
  });
  afterAll(async () => {
    await system?.stop();
    await client?.end();
  });

  const truncated = productSpec({ ttl: "5m" }, "truncated");

  it("a re-seeded id after a truncate never serves the old life, and its writes go through", async () => {
    const ctx = runtime.context();
    const docs = ctx.document.command(truncated);
    const query = ctx.document.query(truncated);
    const id = randomUUID();
    // The old life: a few rows, so its incarnation is above where the restarted sequence begins; rev 2 cached.
    for (let i = 0; i < 3; i++) await docs.create({ name: `filler ${i}`, price: i });
    await docs.create({ id, name: "Old life", price: 1 });
    await docs.update(id, 1, { price: 2 });
    expect(await query.get(id)).toMatchObject({ name: "Old life", rev: 2 });

    await client.query("TRUNCATE truncated RESTART IDENTITY");
    await client.query("ALTER SEQUENCE IF EXISTS truncated_incarnation_seq RESTART"); // a sequence reset too

    const reborn = await docs.create({ id, name: "New life", price: 10 });
    expect(await query.get(id)).toMatchObject({ name: "New life", rev: 1 });
    await docs.update(id, reborn.rev, { price: 11 });
    expect(await query.get(id)).toMatchObject({ name: "New life", price: 11, rev: 2 });
  });

  it("a table of the user's own making, with no sequence on incarnation, takes the clock", async () => {
    await client.query(
      "CREATE TABLE own_table (id uuid PRIMARY KEY, rev bigint NOT NULL, incarnation bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), data jsonb NOT NULL)",
    );
    const own = productSpec({ ttl: "5m" }, "own_table");
    const ownRuntime = await system.startPeer({ documents: ["own_table"] });
    try {
      const docs = ownRuntime.context().document.command(own);
      const id = randomUUID();
      await docs.create({ id, name: "first", price: 1 });
      await docs.delete(id);
      await docs.create({ id, name: "second", price: 2 });
      expect(await ownRuntime.context().document.query(own).get(id)).toMatchObject({ name: "second", rev: 1 });
      const { rows } = await client.query<{ incarnation: string }>("SELECT incarnation FROM own_table");
      expect(Number(rows[0]!.incarnation)).toBeGreaterThan(Date.UTC(2020, 0, 1) * 1000); // µs since the epoch
    } finally {
      await ownRuntime.stop();
    }
  });
});

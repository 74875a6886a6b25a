/**
 * Sealed L2 values (encryption + compression on a cache route) through real Redis and the in-process store: round
 * trips, no cleartext under raw GET, ciphertext moved to another id, tenant or namespace refused (a counted miss,
 * never returned), a flipped character anywhere refused, live key rotation, and sealed fields in Postgres.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Runtime } from "../../src/index.js";
import { defineDocument } from "../../src/index.js";
import { entryPrefix, idKey, kvPrefix } from "../../src/l2/key-layout.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productSpec } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });
const products = productSpec({ ttl: "5m" });
const k1 = randomBytes(32);
const k2 = randomBytes(32);
const SECRET = "secret-widget-name";
const sealing = (keys: Record<string, Buffer>, active: string) => ({
  encryption: { keys, active },
  compression: { thresholdBytes: 256 },
});

describe.skipIf(env.skip).each(["redis", "memory"] as const)("sealed L2 round trips (%s)", (kind) => {
  let system: System;
  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: kind === "redis" ? { url: env.redisUrl! } : "memory",
      cacheOptions: sealing({ k1 }, "k1"),
    });
  });
  afterAll(() => system?.stop());

  it("documents and key/value entries, small and compressed, read back; the counters say so", async () => {
    const ctx = system.runtime.context();
    const query = ctx.document.query(products);
    const small = await ctx.document.command(products).create({ name: SECRET, price: 1 });
    const big = await ctx.document.command(products).create({ name: SECRET.repeat(200), price: 2 });
    await query.getMany([small.id, big.id]); // fills
    await system.runtime.settled();
    expect(await query.get(small.id)).toMatchObject({ name: SECRET, rev: 1 });
    expect(await query.getMany([small.id, big.id])).toMatchObject([{ name: SECRET }, { name: SECRET.repeat(200) }]);
    expect(query.stats().l2.hits).toBe(3);
    const cache = ctx.cache("products");
    await cache.set("json", { secret: SECRET });
    await cache.set("bytes", new Uint8Array([1, 2, 3]));
    await cache.setMany([["big", SECRET.repeat(100)]]);
    expect(await cache.get("json")).toEqual({ secret: SECRET });
    expect(await cache.getMany(["bytes", "big", "absent"])).toEqual([
      new Uint8Array([1, 2, 3]),
      SECRET.repeat(100),
      undefined,
    ]);
    const stats = system.runtime.stats().caches.products!.sealing!;
    expect(stats).toMatchObject({ encrypted: true, authFailed: 0, unknownKey: 0, corrupt: 0 });
    expect(stats.sealed).toBeGreaterThanOrEqual(5);
    expect(stats.opened).toBeGreaterThanOrEqual(6);
    expect(stats.compressed).toBeGreaterThanOrEqual(2);
    expect(stats.bytesSaved).toBeGreaterThan(SECRET.length * 250);
  });
});

describe.skipIf(env.skip)("sealed L2 under attack (redis)", () => {
  let system: System;
  let raw: Redis;
  let runtime: Runtime;
  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      cacheOptions: sealing({ k1 }, "k1"),
    });
    runtime = system.runtime;
    raw = new Redis(env.redisUrl!);
  });
  afterAll(async () => {
    await system?.stop();
    await raw?.quit();
  });

  const sealingStats = (r: Runtime = runtime) => r.stats().caches.products!.sealing!;

  it("raw GET shows no cleartext, and the header stays readable for the fence", async () => {
    const ctx = runtime.context();
    const doc = await ctx.document.command(products).create({ name: SECRET, price: 7 });
    await ctx.document.query(products).get(doc.id);
    await runtime.settled(); // its fill lands right behind the read
    const stored = (await raw.get(entryKey(system.namespace, products, doc.id)))!;
    expect(stored).toMatch(new RegExp(`^s1\\|${products.fingerprint}\\|\\d+\\|1\\|\\d+\\|\\d+\\|\\d+\\|~`));
    expect(stored).not.toContain(SECRET);
    await ctx.cache("products").set("k", { secret: SECRET });
    const kv = (await raw.getBuffer(`${kvPrefix(`${system.namespace}:products`)}k`))!;
    expect(kv.includes(Buffer.from(SECRET))).toBe(false);
  });

  it("an entry copied to another id is a counted miss; the reader gets its own document", async () => {
    const ctx = runtime.context();
    const query = ctx.document.query(products);
    const a = await ctx.document.command(products).create({ name: "A", price: 1 });
    const b = await ctx.document.command(products).create({ name: "B", price: 2 });
    await query.getMany([a.id, b.id]);
    await runtime.settled();
    const before = sealingStats().authFailed;
    const keyB = entryKey(system.namespace, products, b.id);
    await raw.set(keyB, (await raw.get(entryKey(system.namespace, products, a.id)))!, "PX", 60_000);
    expect(await query.get(b.id)).toMatchObject({ name: "B" });
    expect(sealingStats().authFailed - before).toBe(1);
    // The fill replaced the transplant: the next read is a hit again.
    expect(await query.get(b.id)).toMatchObject({ name: "B" });
    expect(sealingStats().authFailed - before).toBe(1);
  });

  it("a key/value entry copied to another key, or to another tenant, is a miss", async () => {
    const prefix = kvPrefix(`${system.namespace}:products`);
    await runtime.context().cache("products").set("a", { secret: SECRET });
    await raw.set(`${prefix}b`, (await raw.getBuffer(`${prefix}a`))!, "PX", 60_000);
    const before = sealingStats().authFailed;
    expect(await runtime.context().cache("products").get("b")).toBeUndefined();
    await runtime.context({ tenant: "acme" }).cache("products").set("t", 1);
    const acme = kvPrefix(`${system.namespace}:products`, "acme");
    const globex = kvPrefix(`${system.namespace}:products`, "globex");
    await raw.set(`${globex}t`, (await raw.getBuffer(`${acme}t`))!, "PX", 60_000);
    expect(await runtime.context({ tenant: "globex" }).cache("products").get("t")).toBeUndefined();
    expect(await runtime.context({ tenant: "acme" }).cache("products").get("t")).toBe(1);
    expect(sealingStats().authFailed - before).toBe(2);
  });

  it("an entry copied to another namespace (same keyring) is a miss there", async () => {
    const other = await system.startPeer({ namespace: `${system.namespace}-2` });
    const ctx = runtime.context();
    const doc = await ctx.document.command(products).create({ name: "N", price: 1 });
    await ctx.document.query(products).get(doc.id);
    await runtime.settled();
    await raw.set(
      entryKey(`${system.namespace}-2`, products, doc.id),
      (await raw.get(entryKey(system.namespace, products, doc.id)))!,
      "PX",
      60_000,
    );
    // The other runtime's database is the same, so it finds the row; what matters is that the L2 copy was refused.
    expect(await other.context().document.query(products).get(doc.id)).toMatchObject({ name: "N" });
    expect(sealingStats(other).authFailed).toBe(1);
    expect(other.stats().documents.products!.l2.hits).toBe(0);
  });

  it("a flipped character anywhere in a stored entry (header or body) is a miss, never another value", async () => {
    const ctx = runtime.context();
    const query = ctx.document.query(products);
    const doc = await ctx.document.command(products).create({ name: SECRET, price: 3 });
    await query.get(doc.id);
    await runtime.settled();
    const key = entryKey(system.namespace, products, doc.id);
    const good = (await raw.get(key))!;
    const bodyAt = good.indexOf("~");
    // Every header field's last digit (fetchedAt, delta, freshUntil) and spread positions of the sealed body.
    const header = [...good.slice(0, bodyAt).matchAll(/\d\|/g)].map((m) => m.index!).slice(-3);
    const positions = [
      ...header,
      ...Array.from({ length: 12 }, (_, i) => bodyAt + 2 + Math.floor((i * (good.length - bodyAt - 3)) / 11)),
    ];
    let misses = 0;
    for (const at of positions) {
      const c = good[at]!;
      const flipped =
        good.slice(0, at) + (c === "A" ? "B" : c === "1" ? "2" : /\d/.test(c) ? "1" : "A") + good.slice(at + 1);
      await raw.set(key, flipped, "PX", 60_000);
      const before = query.stats().l2;
      expect(await query.get(doc.id)).toMatchObject({ name: SECRET, rev: 1 });
      const after = query.stats().l2;
      if (after.hits === before.hits) misses++;
      await runtime.settled(); // this read's refill lands before the next flip
    }
    expect(misses).toBe(positions.length);
  });

  it("live key rotation: old entries still read, new ones use the new key, a removed key turns its entries into misses", async () => {
    const ctx = runtime.context(); // k1 only
    const old = await ctx.document.command(products).create({ name: "old", price: 1 });
    await ctx.document.query(products).get(old.id);
    await runtime.settled();
    const rotated = await system.startPeer({ cacheOptions: sealing({ k1, k2 }, "k2") });
    const rq = rotated.context().document.query(products);
    expect(await rq.get(old.id)).toMatchObject({ name: "old" });
    expect(rq.stats().l2.hits).toBe(1); // opened with k1
    const young = await rotated.context().document.command(products).create({ name: "young", price: 2 });
    await rq.get(young.id);
    await rotated.settled();
    const youngRaw = (await raw.get(entryKey(system.namespace, products, young.id)))!;
    const sealed = Buffer.from(youngRaw.slice(youngRaw.indexOf("~") + 1), "base64");
    expect(sealed.toString("latin1", 3, 3 + sealed[2]!)).toBe("k2");
    const retired = await system.startPeer({ cacheOptions: sealing({ k2 }, "k2") });
    const tq = retired.context().document.query(products);
    expect(await tq.get(young.id)).toMatchObject({ name: "young" });
    expect(await tq.get(old.id)).toMatchObject({ name: "old" }); // from Postgres
    expect(tq.stats().l2.hits).toBe(1);
    expect(retired.stats().caches.products!.sealing!.unknownKey).toBe(1);
  });
});

describe.skipIf(env.skip)("sealed fields in Postgres", () => {
  const people = defineDocument({
    name: "people",
    fields: z.object({ name: z.string(), ssn: z.string(), card: z.object({ last4: z.string() }).optional() }),
    cache: { ttl: "5m" },
    sealedFields: ["ssn", "card"],
  });
  const ring = { keys: { k1 }, active: "k1" };
  let system: System;
  let client: pg.Client;
  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents: ["products", "people"],
      cacheOptions: sealing({ k1 }, "k1"),
      postgresEncryption: ring,
    });
    client = new pg.Client({ connectionString: env.postgres!.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await system?.stop();
  });

  it("are stored encrypted (plain SQL and raw GET show no cleartext) and read back in clear", async () => {
    const ctx = system.runtime.context();
    const created = await ctx.document
      .command(people)
      .create({ name: "Ann", ssn: "078-05-1120", card: { last4: "4242" } });
    expect(created).toMatchObject({ ssn: "078-05-1120", card: { last4: "4242" } });
    const row = await client.query("SELECT data::text AS t FROM people WHERE id = $1", [created.id]);
    expect(row.rows[0].t).toContain("Ann");
    expect(row.rows[0].t).not.toContain("078-05-1120");
    expect(row.rows[0].t).not.toContain("4242");
    const updated = await ctx.document.command(people).update(created.id, 1, { ssn: "219-09-9999" });
    expect(updated.ssn).toBe("219-09-9999");
    const query = ctx.document.query(people);
    expect(await query.get(created.id)).toMatchObject({ ssn: "219-09-9999", card: { last4: "4242" } });
    const stored = (await system
      .raw()
      .get(idKey(entryPrefix(`${system.namespace}:people`, people.fingerprint), created.id)))!;
    expect(stored).not.toContain("219-09-9999");
    // A sealed field copied to another row does not open there: the row refuses to read rather than lie.
    const other = await ctx.document.command(people).create({ name: "Bob", ssn: "111-11-1111" });
    await client.query(
      "UPDATE people SET data = jsonb_set(data, '{ssn}', (SELECT data->'ssn' FROM people WHERE id = $1)) WHERE id = $2",
      [created.id, other.id],
    );
    await expect(ctx.document.query(people).get(other.id, { skipCache: true })).rejects.toThrow(/does not open/);
  });

  it("a document with sealed fields refuses a cache route that does not encrypt", async () => {
    const plain = await system.startPeer({ cacheOptions: {}, postgresEncryption: ring });
    expect(() => plain.context().document.query(people)).toThrow(/encrypting cache route/);
  });
});

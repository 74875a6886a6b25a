/**
 * The Lua fence survives a flushed script cache (a Redis restart with the same connection, a failover, an operator's
 * SCRIPT FLUSH): ioredis sends EVALSHA, gets NOSCRIPT, and resends the script as EVAL. Checked on a private
 * redis-server: a NOSCRIPT is really answered (errorstats), the write lands, the script is cached again, and the
 * fence still decides — for single puts, write-throughs, tombstones, pipelined puts, sliding reads, and a runtime's
 * write-through after an update or a delete.
 */
import { createHash, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import type { DocumentEntry, DocumentEntryStore } from "../../src/l2/document-entry.js";
import { idKey } from "../../src/l2/key-layout.js";
import { FENCED_PUT_LUA, FENCED_PUT_MANY_LUA, SLIDING_READ_LUA } from "../../src/l2/redis/fence-script.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import type { Runtime } from "../../src/runtime/runtime.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productSpec, QueryCounter } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });
const FP = "abcdef012345";
const FENCE_SHA = createHash("sha1").update(FENCED_PUT_LUA).digest("hex");
const SLIDING_SHA = createHash("sha1").update(SLIDING_READ_LUA).digest("hex");
const MANY_SHA = createHash("sha1").update(FENCED_PUT_MANY_LUA).digest("hex");

function entry(incarnation: number, rev: number, freshUntil = Date.now() + 60_000): DocumentEntry {
  return { incarnation, rev, fetchedAt: Date.now(), delta: 3, freshUntil, body: `{"rev":${rev}}` };
}

describe.skipIf(env.skip)("NOSCRIPT after SCRIPT FLUSH", () => {
  let redis: RedisProcess;
  let raw: Redis;

  /** NOSCRIPT errors the server has answered so far. */
  const noscripts = async () => {
    const match = /errorstat_NOSCRIPT:count=(\d+)/.exec(await raw.info("errorstats"));
    return match ? Number(match[1]) : 0;
  };
  const cached = async (sha: string) => ((await raw.script("EXISTS", sha)) as number[])[0];
  /** Flushes the script cache and checks it is really empty. */
  const flush = async () => {
    expect(await raw.script("FLUSH")).toBe("OK");
    expect(await cached(FENCE_SHA)).toBe(0);
    expect(await cached(SLIDING_SHA)).toBe(0);
  };

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    await raw?.quit();
    await redis?.stop();
  });

  describe("the Redis entry store", () => {
    let backend: CacheBackend;
    let store: DocumentEntryStore;
    let prefix: string;
    const ns = `ns:${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      backend = await redisModule({ url: redis.url, caches: { products: { namespace: ns } } })
        .open({
          logger: silentLogger,
          clock: systemClock,
        })
        .then((opened) => opened.backend);
      const namespace = backend.namespace("products")!;
      store = namespace.entries(FP);
      prefix = namespace.entryPrefix(FP);
    });
    afterAll(async () => {
      await backend?.close();
    });

    // Each test starts with the script known to this connection (so ioredis sends EVALSHA), then flushed.
    beforeEach(async () => {
      expect(await store.put(randomUUID(), entry(1, 1), 60_000)).toBe("stored");
      expect(await cached(FENCE_SHA)).toBe(1);
      await flush();
    });

    it("a fenced put lands, the script is cached again, and the fence still rejects an older rev", async () => {
      const id = randomUUID();
      const before = await noscripts();
      expect(await store.put(id, entry(1, 5), 60_000)).toBe("stored");
      expect(await noscripts()).toBe(before + 1);
      expect(await cached(FENCE_SHA)).toBe(1);
      expect(await raw.get(idKey(prefix, id))).toMatch(new RegExp(`^s1\\|${FP}\\|1\\|5\\|`));
      expect(await store.read(id)).toMatchObject({ incarnation: 1, rev: 5, body: '{"rev":5}' });
      expect(await store.put(id, entry(1, 4), 60_000)).toBe("rejected");
      expect(await noscripts()).toBe(before + 1); // reloaded once: EVALSHA works again
      expect(await store.read(id)).toMatchObject({ rev: 5 });
    });

    it("a write-through lands and raises the version floor", async () => {
      const id = randomUUID();
      const before = await noscripts();
      expect(await store.writeThrough(id, entry(2, 3), 60_000)).toBe("stored");
      expect(await noscripts()).toBeGreaterThan(before);
      expect(await store.read(id)).toMatchObject({ incarnation: 2, rev: 3 });
      expect(await raw.get(`${ns}|floor:${FP}:{${id}}`)).toBe("2|3");
    });

    it("a tombstone lands and fences its incarnation", async () => {
      const id = randomUUID();
      const before = await noscripts();
      expect(await store.tombstone(id, 4, 60_000)).toBe("stored");
      expect(await noscripts()).toBeGreaterThan(before);
      expect(await store.read(id)).toBe("tombstone");
      expect(await store.put(id, entry(4, 9), 60_000)).toBe("rejected");
    });

    it("batched puts (one script call) all land, each through the fence", async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const results = await store.putMany([
        { id: a, entry: entry(1, 2), ttlMs: 60_000 },
        { id: b, entry: entry(1, 7), ttlMs: 60_000 },
        { id: c, entry: entry(3, 1), ttlMs: 60_000 },
      ]);
      expect(results).toEqual(["stored", "stored", "stored"]);
      // (The first use of a script may go out as EVAL, so NOSCRIPT is checked after the second flush below.)
      expect(await cached(MANY_SHA)).toBe(1);
      expect(await store.readMany([a, b, c])).toMatchObject([{ rev: 2 }, { rev: 7 }, { incarnation: 3, rev: 1 }]);
      // After a second flush, a batch mixing a stale and a new version still gets the fence's answers.
      await flush();
      const beforeSecond = await noscripts();
      expect(
        await store.putMany([
          { id: a, entry: entry(1, 1), ttlMs: 60_000 },
          { id: b, entry: entry(1, 8), ttlMs: 60_000 },
        ]),
      ).toEqual(["rejected", "stored"]);
      expect(await noscripts()).toBeGreaterThan(beforeSecond); // EVALSHA met NOSCRIPT and was retried
      expect(await cached(MANY_SHA)).toBe(1);
      expect(await store.readMany([a, b])).toMatchObject([{ rev: 2 }, { rev: 8 }]);
    });

    it("a sliding read and a sliding put land", async () => {
      const id = randomUUID();
      expect(await store.put(id, entry(1, 1), 60_000, 30_000)).toBe("stored");
      expect(await store.read(id, 30_000)).toMatchObject({ rev: 1 }); // loads the sliding script on this socket
      await flush();
      const before = await noscripts();
      expect(await store.read(id, 30_000)).toMatchObject({ rev: 1 });
      expect(await store.readMany([id, randomUUID()], 30_000)).toMatchObject([{ rev: 1 }, "miss"]);
      expect(await cached(SLIDING_SHA)).toBe(1);
      expect(await store.put(id, entry(1, 2), 60_000, 30_000)).toBe("stored");
      expect(await noscripts()).toBeGreaterThanOrEqual(before + 2);
      expect(await store.read(id, 30_000)).toMatchObject({ rev: 2 });
    });
  });

  describe("a runtime's write-through", () => {
    const products = productSpec({ ttl: "5m" });
    const counter = new QueryCounter();
    const namespace = `rt:${randomUUID().slice(0, 8)}`;
    let system: System;
    let runtime: Runtime;
    const entryKeyOf = (id: string) => entryKey(namespace, products, id);

    beforeAll(async () => {
      system = await buildSystem({
        postgres: env.postgres!.url,
        redis: { url: redis.url },
        namespace,
        onQuery: counter.onQuery,
      });
      ({ runtime } = system);
    });
    afterAll(async () => {
      await system?.stop();
    });

    it("an update after a flush still writes through: the next read is an L2 hit with the new rev", async () => {
      const ctx = runtime.context();
      const docs = ctx.document.command(products);
      const query = ctx.document.query(products);
      const created = await docs.create({ name: "Widget", price: 10 });
      expect(await query.get(created.id)).toMatchObject({ rev: 1, price: 10 }); // fills L2 through the fence
      await runtime.settled();
      expect(await raw.get(entryKeyOf(created.id))).toMatch(/^s1\|[0-9a-f]{12}\|\d+\|1\|/);
      await flush();
      const before = await noscripts();
      const failuresBefore = query.stats().source.writeThroughFailures;
      const updated = await docs.update(created.id, created.rev, { price: 12 });
      expect(updated).toMatchObject({ rev: 2, price: 12 });
      expect(await noscripts()).toBeGreaterThan(before);
      expect(await raw.get(entryKeyOf(created.id))).toMatch(/^s1\|[0-9a-f]{12}\|\d+\|2\|/);
      expect(query.stats().source.writeThroughFailures).toBe(failuresBefore);
      counter.reset();
      expect(await query.get(created.id)).toMatchObject({ rev: 2, price: 12 });
      expect(counter.selects).toBe(0);
    });

    it("a delete after a flush still leaves its tombstone", async () => {
      const ctx = runtime.context();
      const docs = ctx.document.command(products);
      const query = ctx.document.query(products);
      const created = await docs.create({ name: "Doomed", price: 1 });
      await query.get(created.id);
      await runtime.settled(); // its fill loads the script before the flush, not after
      await flush();
      const before = await noscripts();
      const failuresBefore = query.stats().source.writeThroughFailures;
      await docs.delete(created.id, created.rev);
      expect(await noscripts()).toBeGreaterThan(before);
      expect(query.stats().source.writeThroughFailures).toBe(failuresBefore);
      expect(await raw.get(entryKeyOf(created.id))).toMatch(new RegExp(`^s1\\|${products.fingerprint}\\|\\d+\\|T\\|`));
      // A tombstone reads as a miss (Postgres confirms the absence) and is not replaced by it.
      expect(await query.find(created.id)).toBeUndefined();
      expect(await raw.get(entryKeyOf(created.id))).toMatch(/\|T\|/);
    });
  });
});

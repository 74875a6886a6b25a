/**
 * A seeded, randomized run of concurrent readers and writers on a few ids, over real Postgres and Redis, on two
 * runtimes sharing both. The check (invariants 1–3 without L1): once a write has resolved, no read that starts
 * afterwards — on either runtime — returns an older rev. Every read is checked.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { ConflictError } from "../../src/index.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, sleep, startRuntime } from "../support/strata.js";

const env = await integrationEnv({ postgres: true });
const products = productSpec({ ttl: "5m" });

function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe.skipIf(env.skip)("read-through under concurrent readers and writers", () => {
  let redis: RedisProcess;
  let a: Runtime;
  let b: Runtime;
  const namespace = "stress";

  beforeAll(async () => {
    redis = await startRedis();
    a = await startRuntime({ databaseUrl: env.postgres!.url, redis: redis.url, namespace });
    b = await startRuntime({ databaseUrl: env.postgres!.url, redis: redis.url, namespace });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  for (const seed of [1, 7, 2026]) {
    it(`never serves an older rev after a write resolved (seed ${seed})`, async () => {
      const random = prng(seed);
      const runtimes = [a, b];
      const ids: string[] = [];
      const committed = new Map<string, number>();
      for (let i = 0; i < 3; i++) {
        const doc = await a
          .context()
          .document.command(products)
          .create({ name: `s${i}`, price: 0 });
        ids.push(doc.id);
        committed.set(doc.id, 1);
      }
      const raw = new Redis(redis.url);
      let reads = 0;
      let writes = 0;
      let conflicts = 0;
      const violations: string[] = [];

      const reader = async () => {
        for (let n = 0; n < 60; n++) {
          const id = ids[Math.floor(random() * ids.length)]!;
          const runtime = runtimes[Math.floor(random() * 2)]!;
          const floor = committed.get(id)!;
          const doc = await runtime.context().document.query(products).get(id);
          reads++;
          if (doc.rev < floor) violations.push(`read rev ${doc.rev} of ${id} after rev ${floor} had resolved`);
          if (random() < 0.2) await sleep(Math.floor(random() * 3));
        }
      };
      const writer = async () => {
        for (let n = 0; n < 20; n++) {
          const id = ids[Math.floor(random() * ids.length)]!;
          const runtime = runtimes[Math.floor(random() * 2)]!;
          const ctx = runtime.context();
          const current = await ctx.document.query(products).get(id, { skipCache: true });
          try {
            const doc = await ctx.document.command(products).update(id, current.rev, { price: current.price + 1 });
            writes++;
            committed.set(id, Math.max(committed.get(id)!, doc.rev));
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error;
            conflicts++;
          }
          // Now and then, drop an entry behind the cache's back so fills race writes.
          if (random() < 0.3) await raw.del(`${namespace}:products:${products.fingerprint}:d:{${id}}`);
        }
      };
      await Promise.all([reader(), reader(), reader(), reader(), writer(), writer(), writer()]);
      raw.disconnect();
      expect(violations).toEqual([]);
      expect(reads).toBe(240);
      expect(writes + conflicts).toBe(60);
      expect(writes).toBeGreaterThan(10);
      // And at rest, both runtimes agree with Postgres.
      for (const id of ids) {
        const truth = await a.context().document.query(products).get(id, { skipCache: true });
        expect((await a.context().document.query(products).get(id)).rev).toBe(truth.rev);
        expect((await b.context().document.query(products).get(id)).rev).toBe(truth.rev);
      }
    });
  }
});

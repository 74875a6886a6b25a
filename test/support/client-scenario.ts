/**
 * One scenario run with Redis clients of each ioredis major (test/integration/ioredis-5.test.ts, ioredis-6.test.ts):
 * two runtimes with L1 and push invalidation, wired by url or by a client the caller built, read through Postgres
 * and Redis, and see each other's writes drop their L1 entries.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { RedisClientLike, Runtime } from "../../src/index.js";
import { createRuntime, postgresModule, redisModule, silentLogger } from "../../src/index.js";
import { waitUntil } from "./eventually.js";
import { FAST_TIMING, peekRev, pushProducts, pushStats, warm } from "./push-runtime.js";

/** How each runtime reaches Redis: by url (stratacache's own ioredis) or with a client from `connect()`. */
export type RedisWiring = { readonly url: string } | { readonly client: () => RedisClientLike };

function startReplica(databaseUrl: string, wiring: RedisWiring, namespace: string): Promise<Runtime> {
  const caches = { products: { namespace, invalidationPush: true } };
  const redis =
    "url" in wiring
      ? redisModule({ url: wiring.url, caches, invalidation: FAST_TIMING })
      : redisModule({ client: wiring.client(), caches, invalidation: FAST_TIMING });
  const runtime = createRuntime({
    modules: [postgresModule({ url: databaseUrl, documents: { products: { table: "products" } } }), redis],
    logger: silentLogger,
  });
  return runtime.start().then(() => runtime);
}

/** Read-through and push invalidation between two replicas; `entryCount` counts the namespace's keys in Redis. */
export async function readThroughAndPush(
  databaseUrl: string,
  wiring: RedisWiring,
  entryCount: (pattern: string) => Promise<number>,
): Promise<void> {
  const namespace = `majors:${randomUUID().slice(0, 8)}`;
  const a = await startReplica(databaseUrl, wiring, namespace);
  const b = await startReplica(databaseUrl, wiring, namespace);
  try {
    expect(pushStats(a).state).toBe("armed");
    expect(pushStats(b).state).toBe("armed");
    const docs = a.context().document.command(pushProducts);
    const created = await docs.create({ name: "Widget", price: 10 });
    const query = b.context().document.query(pushProducts);
    expect(await query.get(created.id)).toMatchObject({ name: "Widget", price: 10, rev: 1 });
    await b.settled(); // the fill lands right behind the read
    expect(await entryCount(`${namespace}:*`)).toBeGreaterThan(0); // the read filled Redis
    expect(await warm(b, pushProducts, created.id)).toBe(1);
    // The fill's own SET comes back as an invalidation, so settling in L1 took an L2 hit: push is not deaf.
    expect(query.stats().l2.hits, "no invalidation ever arrived on the push channel").toBeGreaterThan(0);
    await docs.update(created.id, created.rev, { price: 12 });
    await waitUntil(() => peekRev(b, pushProducts, created.id) === undefined, {
      timeoutMs: 3_000,
      intervalMs: 2,
      message: "push never dropped B's L1 entry",
    });
    expect(await query.get(created.id)).toMatchObject({ price: 12, rev: 2 });
    expect(pushStats(b)).toMatchObject({ state: "armed", disarmings: 0 });
  } finally {
    await a.stop();
    await b.stop();
  }
}

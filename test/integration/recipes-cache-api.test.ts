/**
 * The cache API recipes (remember, counters, tags, testing-with-the-fake), run like a user would on the file's
 * Redis (they need no Postgres), checking the lines that carry their promises. Each recipe also throws when the
 * behaviour is not as promised, and must leave no `recipes:` key behind (runRecipe checks).
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true, privateRedis: true });

describe.skipIf(env.skip)("cache API recipes", () => {
  const redis = () => ({ REDIS_URL: env.redisUrl! });

  it("remember: single-flight, schema, grace, soft timeout, negative caching", async () => {
    const out = await runRecipe("remember", redis());
    expect(out).toMatch(/100 concurrent remember\("EURUSD"\) → 1 distinct value +upstream calls=1 .*joined=99/);
    expect(out).toMatch(/over a stale-shaped value → .*schemaMisses=1/);
    expect(out).toMatch(/upstream down, entry stale: .*\(stale-if-error\) .*stale=1/);
    expect(out).toMatch(/timeout\.soft 30ms → .*stale=2/);
    expect(out).toMatch(/unknown pair twice with notFoundTtl → undefined, undefined; upstream calls \+1/);
  });

  it("counters: exact under concurrency, quota ceiling, stock floor, ttl kept", async () => {
    const out = await runRecipe("counters", redis());
    expect(out).toMatch(/1,000 concurrent increments over 2 replicas → views=1000/);
    expect(out).toMatch(/→ allowed, allowed, allowed, refused, refused/);
    expect(out).toMatch(/\(floor 0\) → final stock=0/);
    expect(out).toMatch(/clear\(\) → views=undefined/);
  });

  it("tags: invalidation by tag and clear, per cache", async () => {
    const out = await runRecipe("tags", redis());
    expect(out).toMatch(/→ 3 of 9 pages are misses: user 2's/);
    expect(out).toMatch(/→ 5 of 9 misses/);
    expect(out).toMatch(/pages\.clear\(\) → 0 pages left; the other cache keeps its entry: 1/);
  });

  it("testing-with-the-fake: the recording fake and the null backend", async () => {
    const out = await runRecipe("testing-with-the-fake", {});
    expect(out).toMatch(/answered by loader, l2, loader; db reads=2/);
    expect(out).toMatch(/null backend: 3 × profile\(7\) → db reads=3/);
  });
});

/**
 * The L1 and push-invalidation recipes, run for real (like a user would) on real Postgres + Redis, and
 * push-invalidation, which has its own embedded path, on the embedded default too (see EMBEDDED_RUNS in
 * test/support/recipes.ts), checking the lines that carry their promises. Each recipe also throws on its own when the
 * behaviour is not as promised, so a zero exit code is itself part of the check.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { redisServerVersion } from "../support/redis.js";
import { integrationEnv, requireServices, servicesUnavailable } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });
/** The embedded push run spawns its own redis-server; without the binary it can only exit 2. */
const canSpawnRedis = (await redisServerVersion()) !== undefined;

const recipe = runRecipe;

function l1Expectations(out: string) {
  for (const policy of ["lru", "tinylfu"]) {
    const section = out.slice(out.indexOf(`── policy: ${policy}`));
    expect(section).toMatch(/get #1 → price 10 .*L1 hits=0 misses=1 +L2 hits=0 misses=1 +Postgres reads=1/);
    expect(section).toMatch(/get ×100 → the same frozen object \(L1 hits \+100, L2 lookups \+0\) +L1 hits=101 /);
    expect(section).toMatch(/get ×100 .*L2 hits=0 misses=1 +Postgres reads=1/);
    expect(section).toMatch(/peek → price 10 \(sync\); peek\(never-read id\) → undefined/);
    expect(section).toMatch(/update → price 12 \(rev 2\); peek → undefined/);
    expect(section).toMatch(
      /get #102 → price 12 \(L2 hit on the written-through rev 2\) .*L2 hits=1 misses=1 +Postgres/,
    );
  }
  expect(out).toMatch(/hot set again → 0\/6 L1 hits, 6 back to L2/);
  expect(out).toMatch(/hot set again → 6\/6 L1 hits, 0 back to L2/);
  expect(out).toMatch(/scan resistance: hot set kept in L1 — lru 0\/6, tinylfu 6\/6/);
  expect(out).toMatch(/L1Stats of l1_lru_products: \{\n {2}"size": 16,\n {2}"capacity": 16,/);
  expect(out).toMatch(/L1Stats of l1_tinylfu_products: \{\n {2}"size": 16,\n {2}"capacity": 16,/);
}

function pushExpectations(out: string) {
  expect(out).toMatch(/^replicas A and B started: push armed on both/m);
  expect(out).toMatch(/^A {2}create → Widget at 10 \(rev 1\)$/m);
  expect(out).toMatch(/^B {2}get → rev 1, price 10 \(L1 hit: no Redis, no SQL\)$/m);
  expect(out).toMatch(/^A {2}update → price 12 \(rev 2\) in [\d.]+ ms/m);
  const lag = /^B {2}L1 copy of rev 1 dropped by push ([\d.]+) ms after A's update\(\) began/m.exec(out);
  expect(lag, out).not.toBeNull();
  expect(Number(lag![1])).toBeLessThan(2_000);
  expect(out).toMatch(/^B {2}get → rev 2, price 12 \(L1 miss, L2 hit: fills L1\)$/m);
  expect(out).toMatch(/^B {2}get → rev 2, price 12 \(L1 hit: no Redis, no SQL\)$/m);
  expect(out).toMatch(/^push stats of B: state=armed epoch=0 armings=1 disarmings=0 invalidations=\d+ dropped=[1-9]/m);
  expect(out).toMatch(/^runtime\.stats\(\)\.caches\.push_products of B: \{"backend":"redis"/m);
}

describe("l1-tier recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("l1-tier", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
      expect(out).toMatch(/^engines: Postgres at .*; Redis at /m);
      l1Expectations(out);
    },
    90_000,
  );
});

describe("push-invalidation recipe", () => {
  it("runs on the embedded default (one shared PGlite + a private redis-server it spawns)", async (ctx) => {
    if (!canSpawnRedis) {
      servicesUnavailable("push-invalidation recipe (embedded)", "redis-server is not on PATH");
      if (!requireServices) ctx.skip();
    }
    const out = await recipe("push-invalidation", { STRATA_ENGINES: "embedded" });
    expect(out).toMatch(
      /^engines: PGlite \(.*shared by both replicas\); Redis [\d.]+ at redis:\/\/127\.0\.0\.1:\d+ \(private /m,
    );
    pushExpectations(out);
  }, 90_000);

  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("push-invalidation", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
      expect(out).toMatch(/^engines: Postgres at .*; Redis [\d.]+ at .* \(REDIS_URL\)$/m);
      pushExpectations(out);
    },
    90_000,
  );

  it("exits with code 2, saying why, when REDIS_URL does not answer", async () => {
    const failure = await recipe("push-invalidation", { REDIS_URL: "redis://127.0.0.1:1" }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(
      /cannot run the push-invalidation recipe: .*REDIS_URL \(redis:\/\/127\.0\.0\.1:1\) does not answer/,
    );
  }, 60_000);
});

/**
 * The recipes are how users learn the library, and `npm start` is the README's first command: run them for real,
 * on the embedded default and on the real servers, and check what they print.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

const recipe = runRecipe;

describe("cache-reads recipe", () => {
  it("runs on the embedded default (PGlite + in-process L2)", async () => {
    const out = await recipe("cache-reads", { STRATA_ENGINES: "embedded" });
    expect(out).toMatch(/^engines: PGlite .*in-process L2/m);
    expect(out).toMatch(/get #1 → price 10 .*L2 hits=0 misses=1 +Postgres reads=1/);
    expect(out).toMatch(/get #2 → price 10 .*L2 hits=1 misses=1 +Postgres reads=1/);
    expect(out).toMatch(/get #3 → price 12 .*L2 hits=2 misses=1 +Postgres reads=1/);
    expect(out).toMatch(/delete → find returns undefined/);
  }, 90_000);

  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("cache-reads", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
      expect(out).toMatch(/^engines: Postgres at .*; Redis at /m);
      expect(out).toMatch(/get #3 → price 12 .*L2 hits=2 misses=1 +Postgres reads=1/);
    },
    90_000,
  );
});

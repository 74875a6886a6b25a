/**
 * The locks, rate-limit and postgres-only recipes, run for real (like a user would) on real Postgres + Redis,
 * checking the lines that carry their promises. Each recipe also throws on its own when the behaviour is not as
 * promised, so a zero exit code is itself part of the check; runRecipe fails when one leaves a table or key behind.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });
const servers = () => ({ DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });

describe("coordination recipes", () => {
  it.skipIf(env.skip)(
    "locks: the lost lease is reported, the late writer refused, withLock exact",
    async () => {
      const out = await runRecipe("locks", servers());
      expect(out).toMatch(/A pauses 450 ms: onLost +→ LOCK_LOST/);
      expect(out).toMatch(/A wakes up and writes with its old token +→ refused/);
      expect(out).toMatch(/counter = 20, tokens increasing: true/);
    },
    90_000,
  );

  it.skipIf(env.skip)(
    "rate-limit: exact budgets, exact retryAfter, the edge burst of each algorithm",
    async () => {
      const out = await runRecipe("rate-limit", servers());
      for (const algorithm of ["fixed", "sliding", "gcra"]) {
        expect(out).toMatch(new RegExp(`${algorithm}: 60 × rateLimit\\("burst:${algorithm}"\\) +→ 10 allowed`));
      }
      expect(out).toMatch(/edge burst fixed=20 sliding=10 gcra=10/);
    },
    90_000,
  );

  it.skipIf(env.skip)(
    "postgres-only: documents, key/value, locks and rate limits without Redis",
    async () => {
      const out = await runRecipe("postgres-only", { DATABASE_URL: env.postgres!.url });
      expect(out).toMatch(/engines: Postgres at .*; no Redis/);
      expect(out).toMatch(/product-table reads by B 0/);
      expect(out).toMatch(/rateLimit\("api:acme", \{ limit: 3 \}\) +→ true, true, true, false/);
    },
    90_000,
  );
});

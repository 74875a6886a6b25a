/**
 * The change-capture recipe, run for real (like a user would) on real Postgres + Redis, checking the lines that
 * carry its promises: a raw UPDATE stays unseen while no relay runs (and the stats say so), a relay drains it, a
 * doorbell-rung write is seen at once; nothing is left behind (table, triggers, outbox, keys). The recipe throws on
 * its own when the behaviour is not as promised, so a zero exit code is part of the check.
 */
import { describe, expect, it } from "vitest";
import { withClient } from "../support/postgres.js";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

describe("change-capture recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis, and leaves no trigger or outbox behind",
    async () => {
      const out = await runRecipe("change-capture", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
      expect(out).toMatch(/^B {2}get → price 10 \(rev 1\) 600 ms later: still the old version, no relay runs$/m);
      expect(out).toMatch(/changeCapture\.capture_products of B: \{"mode":"outbox","relay":"off"/);
      expect(out).toMatch(/^ {3}outbox rows waiting: [1-9]/m);
      expect(out).toMatch(/^R {2}relay started; B saw price 11 [\d.]+ ms later/m);
      expect(out).toMatch(/^B {2}get → price 12 \(rev 3\) [\d.]+ ms after the commit$/m);
      expect(out).toMatch(
        /changeCapture\.capture_products of R: \{"mode":"outbox","relay":"running","lagMs":0,"depth":0/,
      );
      const left = await withClient(env.postgres!.url, (client) =>
        client.query(
          `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'stratacache%')::int AS triggers,
                  to_regclass('public.stratacache_outbox') IS NULL AS no_outbox`,
        ),
      );
      expect(left.rows[0]).toEqual({ triggers: 0, no_outbox: true });
    },
    90_000,
  );
});

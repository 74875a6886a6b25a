/**
 * The observability recipe, run for real on real Postgres + Redis: it scrapes the OTel Prometheus exporter with a
 * plain GET and prints the stratacache lines, then health() and the coherence figures. The recipe throws on its own
 * when a promise does not hold (no L1 hits or push invalidations exported, an id in a label, no lag sample, not
 * ready), so a zero exit code is part of the check.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

describe.skipIf(env.skip)("observability recipe", () => {
  it("prints the Prometheus exposition text, health() and the coherence figures", async () => {
    const out = await runRecipe("observability", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
    expect(out).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/metrics \(stratacache lines\):$/m);
    expect(out).toMatch(
      /stratacache_lookups_total\{cache_document="observed_products",cache_result="hit",cache_tier="l1"\} \d+/,
    );
    expect(out).toMatch(
      /db_client_operation_duration_count\{db_system_name="postgresql",db_operation_name="SELECT"\} \d+/,
    );
    expect(out).toMatch(/stratacache_health\{cache_dependency="redis",cache_state="ok"\} 1/);
    expect(out).toMatch(
      /stratacache_cache_lookups_total\{cache_name="observed_sessions",cache_result="miss",cache_tier="loader"\} 5/,
    );
    expect(out).toMatch(
      /stratacache_cache_lookups_total\{cache_name="observed_sessions",cache_result="hit",cache_tier="l2"\} 5/,
    );
    expect(out).toMatch(/^health: ready=true$/m);
    expect(out).toMatch(/^ {2}push \(push\): ok since /m);
    expect(out).toMatch(/^coherence on B: push lag [1-9]\d* samples, mean [\d.]+ ms/m);
  }, 90_000);
});

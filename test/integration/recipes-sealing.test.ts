/**
 * The encryption and multi-tenant recipes, run for real (like a user would) on real Postgres + Redis, checking the
 * lines that carry their promises. Each recipe also throws on its own when the behaviour is not as promised.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

describe.skipIf(env.skip)("encryption and multi-tenant recipes", () => {
  it("encryption: no cleartext in Redis, a transplanted ciphertext refused, live key rotation", async () => {
    const out = await runRecipe("encryption", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
    expect(out).toMatch(/^raw GET of Ann's entry: s1\|[0-9a-f]+\|\d+\|1\|\d+\|\d+\|\d+\|~<\d+ chars of base64>$/m);
    expect(out).toMatch(/get\(Bob\) → Bob, asthma \(from Postgres\)/);
    expect(out).toMatch(/sealing\.authFailed = 1: refused/);
    expect(out).toMatch(/B created Cy: its entry is sealed with key "v2"/);
    expect(out).toMatch(/get\(Ann\) → miss \(unknownKey=1\), refilled with v2/);
    expect(out).toMatch(/^sealing stats of C: \{"encrypted":true,/m);
  }, 60_000);

  it("multi-tenant: two tenants, same ids, no crossing; per-tenant stats", async () => {
    const out = await runRecipe("multi-tenant", { DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });
    expect(out).toMatch(/^round 3: acme → Wile E\. Coyote \(1200\); globex → Hank Scorpio \(99\)$/m);
    expect(out).toMatch(/initech find\(same id\) → undefined/);
    expect(out).toMatch(/initech update\(same id\) → NotFoundError/);
    expect(out).toMatch(/runtime\.context\(\) \(no tenant\) → TenantRequiredError/);
    expect(out).toMatch(/acme total 1300, globex total 99 \(untouched\)/);
    expect(out).toMatch(/^ {2}invoices@globex +L2 hits=\d+/m);
  }, 60_000);
});

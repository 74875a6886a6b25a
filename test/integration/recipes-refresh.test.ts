/**
 * The early-refresh, lifetimes and stale-if-error recipes, run for real on the real servers (and stale-if-error, which
 * has its own embedded path, on the embedded default too: see EMBEDDED_RUNS in test/support/recipes.ts), checking the
 * lines that prove each capability. Each recipe also throws (non-zero exit) when the
 * capability misbehaves, which fails `execFile` here.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

const recipe = runRecipe;

const embedded = { STRATA_ENGINES: "embedded" };
const servers = () => ({ DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });

function expectEarlyRefresh(out: string) {
  const section = (label: string) => out.slice(out.indexOf(`— ${label}`)).split("\n\n")[0] ?? "";
  const plain = section("plain (no earlyRefresh)");
  expect(plain).toMatch(/t=\+59s .*from the cache .*L2 hits=2 misses=1 +reader fetches=1/);
  expect(plain).toMatch(/t=\+61s .*from Postgres \(reader waited 2s\) .*L2 hits=2 misses=2 +reader fetches=2/);
  const inline = section("earlyRefresh inline");
  expect(inline).toMatch(/t=\+30s .*from the cache .*reader fetches=1 +refreshed early: inline=0/);
  expect(inline).toMatch(/t=\+59s .*from Postgres .*L2 hits=2 misses=1 +reader fetches=2 +refreshed early: inline=1/);
  expect(inline).toMatch(/t=\+61s .*from the cache .*L2 hits=3 misses=1 +reader fetches=2/);
  const background = section("earlyRefresh background");
  expect(background).toMatch(/t=\+59s .*from the cache .*reader fetches=1 +refreshed early: inline=0 background=1/);
  expect(background).toMatch(/t=\+61s .*from the cache .*L2 hits=3 misses=1 +reader fetches=1/);
}

function expectLifetimes(out: string) {
  expect(out).toMatch(/t≈1\.0s +hot: read again .*→ from cache +L2 hits=5 misses=2 +Postgres reads=2/);
  expect(out).toMatch(/t≈1\.0s +idle: unread .*→ from Postgres +L2 hits=5 misses=3 +Postgres reads=3/);
  expect(out).toMatch(/t≈1\.65s +hot: past the absolute ttl .*→ from Postgres +L2 hits=5 misses=4 +Postgres reads=4/);
  expect(out).toMatch(/\+29s +draft: .*→ from cache/);
  expect(out).toMatch(/\+31s +draft: .*→ from Postgres/);
  expect(out).toMatch(/\+5h29m +archived: .*→ from cache +L2 hits=3 misses=2 +Postgres reads=2/);
  expect(out).toMatch(/\+5h31m +archived: .*→ from Postgres/);
  expect(out).toMatch(/\+30d59m +legacy: .*→ from cache +L2 hits=4 misses=4 +Postgres reads=4/);
  expect(out).toMatch(/\+30d1h1m +legacy: .*→ from Postgres +L2 hits=4 misses=5 +Postgres reads=5/);
}

function expectStaleIfError(out: string, failure: RegExp) {
  expect(out).toMatch(/\+30s +prices_with_grace get → price 10 from the cache .*staleServes=0/);
  expect(out).toMatch(
    /\+5m +prices_with_grace get → price 10 from the stale entry \(Postgres failed\) .*staleServes=1/,
  );
  const unavailable = `throws UnavailableError: Postgres at \\S+ failed: ${failure.source}`;
  expect(out).toMatch(new RegExp(`\\+5m +prices_no_grace +get → ${unavailable}`));
  expect(out).toMatch(new RegExp(`\\+11m30s prices_with_grace get → ${unavailable}.*staleServes=1`));
}

describe("early-refresh recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("early-refresh", servers());
      expect(out).toMatch(/^engines: Postgres at .*; Redis at /m);
      expectEarlyRefresh(out);
    },
    90_000,
  );
});

describe("lifetimes recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("lifetimes", servers());
      expect(out).toMatch(/^engines: Postgres at .*; Redis at /m);
      expectLifetimes(out);
    },
    90_000,
  );
});

describe("stale-if-error recipe", () => {
  it("runs on the embedded default (PGlite + in-process L2)", async () => {
    const out = await recipe("stale-if-error", embedded);
    expect(out).toMatch(/^engines: PGlite .*in-process L2/m);
    expect(out).toMatch(/Postgres taken away \(PGlite closed\)/);
    expectStaleIfError(out, /PGlite is closed/);
  }, 90_000);

  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("stale-if-error", servers());
      expect(out).toMatch(/^engines: Postgres at .*; Redis at /m);
      expect(out).toMatch(/Postgres taken away \(pg\.Pool ended\)/);
      expectStaleIfError(out, /Cannot use a pool after calling end on the pool/);
    },
    90_000,
  );
});

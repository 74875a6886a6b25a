/**
 * The one-liner at the top of an integration test file (top-level await):
 *
 *   const env = await integrationEnv({ postgres: true, redis: true });
 *   describe.skipIf(env.skip)("read-through", () => {
 *     it("fills L2", async () => { const url = env.postgres!.url; const redisUrl = env.redisUrl!; … });
 *   });
 *
 * It finds the services (see postgres.ts / redis.ts for the order), creates a fresh database,
 * registers `afterAll` cleanup (drop the database, stop a spawned redis), and when something is
 * missing prints a loud banner and sets `skip` — or, under `STRATA_REQUIRE_SERVICES=1` (CI), throws
 * so the file fails instead of passing vacuously.
 */
import { relative } from "node:path";
import { afterAll, expect } from "vitest";
import { locatePostgres, type PostgresServer, type TestDatabase } from "./postgres.js";
import { locateRedis, type RedisService, redisServerVersion } from "./redis.js";

/** CI sets `STRATA_REQUIRE_SERVICES=1`: a missing service is then a failure, never a skip. */
export const requireServices: boolean = process.env.STRATA_REQUIRE_SERVICES === "1";

export class ServicesUnavailableError extends Error {
  override readonly name = "ServicesUnavailableError";
}

/**
 * Reports that `what` (a suite or file) cannot run because of `reason`: a banner on stderr, or a
 * thrown `ServicesUnavailableError` when services are required. `required` overrides the env (tests).
 */
export function servicesUnavailable(what: string, reason: string, options: { required?: boolean } = {}): void {
  const required = options.required ?? requireServices;
  if (required) {
    throw new ServicesUnavailableError(
      `${what}: required services are unavailable (STRATA_REQUIRE_SERVICES=1): ${reason}`,
    );
  }
  const rule = "=".repeat(78);
  console.warn(
    [
      "",
      rule,
      `  SKIPPING ${what}`,
      `  integration services unavailable: ${reason}`,
      "  (set DATABASE_URL / REDIS_URL, install postgresql / redis-server, or start Docker;",
      "   STRATA_REQUIRE_SERVICES=1 turns this skip into a failure)",
      rule,
      "",
    ].join("\n"),
  );
}

export interface IntegrationEnvOptions {
  /** A fresh database on a real Postgres. */
  postgres?: boolean;
  /** A Redis server URL (a private spawned server unless `REDIS_URL` is set). */
  redis?: boolean;
  /**
   * The file spawns its own servers with `startRedis()` (fault tests kill, pause and restart them), so it needs
   * the `redis-server` binary itself: without it the file skips loudly, like any missing service.
   */
  privateRedis?: boolean;
  /** Name for the skip banner; defaults to the test file's path. */
  name?: string;
}

/** The file's fresh database, with the server it lives on. */
export interface IntegrationDatabase extends TestDatabase {
  readonly server: PostgresServer;
  readonly adminUrl: string;
  readonly source: string;
}

export interface IntegrationEnv {
  /** True when a requested service is missing (never true under STRATA_REQUIRE_SERVICES=1). */
  readonly skip: boolean;
  /** Why it skips, when it does. */
  readonly reason?: string;
  readonly postgres?: IntegrationDatabase;
  readonly redisUrl?: string;
  readonly redis?: RedisService;
}

function currentFile(): string {
  const path = expect.getState().testPath;
  return path ? relative(process.cwd(), path) : "integration suite";
}

/** Finds what the file asks for and registers its cleanup; see the comment at the top. */
export async function integrationEnv(options: IntegrationEnvOptions): Promise<IntegrationEnv> {
  const what = options.name ?? currentFile();
  const missing: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    const errors: unknown[] = [];
    for (const step of cleanups.splice(0).reverse()) await step().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, `${what}: integration cleanup failed`);
  };

  let postgres: IntegrationDatabase | undefined;
  let redis: RedisService | undefined;
  // Finding them concurrently saves a spawn's worth of time per file.
  const [pgSearch, redisSearch] = await Promise.all([
    options.postgres ? locatePostgres() : undefined,
    options.redis ? locateRedis() : undefined,
  ]);
  if (redisSearch) {
    const service = redisSearch.service;
    redis = service;
    if (service) cleanups.push(() => service.stop());
    else missing.push(`redis — ${redisSearch.tried.join("; ")}`);
  }
  if (options.privateRedis && (await redisServerVersion()) === undefined) {
    missing.push("redis-server — not on PATH, and this file spawns private servers (startRedis) for its tests");
  }
  if (pgSearch) {
    const server = pgSearch.server;
    if (!server) {
      missing.push(`postgres — ${pgSearch.tried.join("; ")}`);
    } else if (missing.length === 0) {
      // Only when the file will run: with Redis missing, a database would just be dropped again.
      try {
        const db = await server.createDatabase();
        cleanups.push(() => db.drop());
        postgres = { ...db, server, adminUrl: server.adminUrl, source: server.source };
      } catch (error) {
        missing.push(`postgres — CREATE DATABASE on ${server.source} failed: ${(error as Error).message}`);
      }
    }
  }

  if (missing.length > 0) {
    // Release what was found before reporting, so a thrown error leaves nothing behind either.
    await cleanup().catch(() => {});
    const reason = missing.join(" | ");
    servicesUnavailable(what, reason);
    return { skip: true, reason };
  }
  afterAll(cleanup);
  return { skip: false, postgres, redisUrl: redis?.url, redis };
}

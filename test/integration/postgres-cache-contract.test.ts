/**
 * The cache API contract (test/support/cache-contract.ts) on the Postgres cache store (postgresCacheModule), through
 * a runtime with no documents: the manual clock moves freshness, real time passes for the table's expiry (the
 * database clock).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll } from "vitest";
import { silentLogger } from "../../src/kernel/logger.js";
import { postgresCacheModule } from "../../src/runtime/modules/postgres-cache-module.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { describeCacheContract } from "../support/cache-contract.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock } from "../support/strata.js";

const env = await integrationEnv({ postgres: true });
let db: pg.Pool | undefined;
afterAll(async () => {
  await db?.end();
});

if (!env.skip) {
  describeCacheContract("postgres", async () => {
    db ??= new pg.Pool({ connectionString: env.postgres!.url, max: 2 });
    const clock = new ManualClock(Date.now());
    const base = `contract:${randomUUID().slice(0, 8)}`;
    const runtime = createRuntime({
      modules: [
        postgresCacheModule({
          url: env.postgres!.url,
          caches: { c: { namespace: `${base}:c` }, o: { namespace: `${base}:o` } },
        }),
      ],
      clock,
      logger: silentLogger,
    });
    await runtime.start();
    return {
      cache: runtime.cache("c"),
      other: runtime.cache("o"),
      elapse: async (ms) => {
        clock.advance(ms);
        await sleep(ms);
      },
      close: async () => {
        await runtime.stop();
        await db!.query("DELETE FROM strata_cache WHERE key LIKE $1", [`${base}:%`]);
      },
    };
  });
}

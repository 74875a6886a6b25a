/**
 * The cache API contract (test/support/cache-contract.ts) on the in-process store (manual clock: expiry moves with
 * it) and on Redis (the manual clock moves freshness; real time passes for PX), each through a runtime that has no
 * documents at all.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll } from "vitest";
import { silentLogger } from "../../src/kernel/logger.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { describeCacheContract } from "../support/cache-contract.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock } from "../support/strata.js";

const env = await integrationEnv({ redis: true });

describeCacheContract("memory", async () => {
  const clock = new ManualClock(Date.now());
  const runtime = createRuntime({
    modules: [memoryCacheModule({ caches: { c: { namespace: "c" }, o: { namespace: "o" } } })],
    clock,
    logger: silentLogger,
  });
  await runtime.start();
  return {
    cache: runtime.cache("c"),
    other: runtime.cache("o"),
    elapse: async (ms) => clock.advance(ms),
    close: () => runtime.stop(),
  };
});

let raw: Redis | undefined;
afterAll(async () => {
  await raw?.quit();
});

if (!env.skip) {
  describeCacheContract("redis", async () => {
    raw ??= new Redis(env.redisUrl as string);
    const clock = new ManualClock(Date.now());
    const base = `contract:${randomUUID().slice(0, 8)}`;
    const runtime = createRuntime({
      modules: [
        redisModule({
          url: env.redisUrl as string,
          caches: { c: { namespace: `${base}:c` }, o: { namespace: `${base}:o` } },
          timeoutMs: 2_000,
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
        const keys = await raw!.keys(`${base}:*`); // test cleanup of a private prefix only
        if (keys.length > 0) await raw!.del(...keys);
      },
    };
  });
}

/**
 * start()/stop() in any interleaving (SIGTERM during startup): the runtime always ends "stopped" with every
 * connection it opened closed — counted on the servers themselves (CLIENT LIST on a private redis-server,
 * pg_stat_activity for the file's database) and on TCP proxies that slow Postgres and Redis down so that stop()
 * lands while start() is waiting on them. stop() is idempotent and awaitable; start() interrupted by stop() rejects
 * with RuntimeStateError, and so does start() after stop().
 */
import { createHook } from "node:async_hooks";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { createRuntime, postgresModule, RuntimeStateError, redisModule, silentLogger } from "../../src/index.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, sleep } from "../support/strata.js";
import { buildSystem } from "../support/system.js";
import { createProxy, proxiedUrl, proxyTo, type TcpProxy } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });
const products = productSpec({ ttl: "5m", l1: { ttl: "1s", capacity: 16 } });

describe.skipIf(env.skip)("runtime start/stop interleavings", () => {
  let redis: RedisProcess;
  let redisProxy: TcpProxy;
  let pgProxy: TcpProxy;
  let admin: pg.Client;

  beforeAll(async () => {
    redis = await startRedis();
    redisProxy = await createProxy({ host: redis.host, port: redis.port });
    pgProxy = await proxyTo(env.postgres!.url);
    admin = new pg.Client({ connectionString: env.postgres!.adminUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await redisProxy?.close();
    await pgProxy?.close();
    await redis?.stop();
  });

  const newRuntime = (push: boolean): Runtime =>
    createRuntime({
      modules: [
        postgresModule({ url: proxiedUrl(env.postgres!.url, pgProxy), documents: { products: {} } }),
        redisModule({
          url: proxiedUrl(redis.url, redisProxy),
          caches: { products: { namespace: "life:products", invalidationPush: push } },
        }),
      ],
      documents: [products],
      logger: silentLogger,
    });

  /** Connections the servers see from anyone but this test's own admin client and redis-cli. */
  async function openConnections(): Promise<{ redis: number; postgres: number; proxies: number }> {
    const list = await redis.cli("CLIENT", "LIST");
    const redisClients = list.split("\n").filter((line) => line.length > 0 && !/ cmd=client\|list /.test(line));
    const { rows } = await admin.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [env.postgres!.name],
    );
    return {
      redis: redisClients.length,
      postgres: Number(rows[0]?.n),
      proxies: redisProxy.connections + pgProxy.connections,
    };
  }

  /** Servers close their side a moment after the client's: wait for the counts to reach zero (or give up). */
  async function settledConnections(): Promise<{ redis: number; postgres: number; proxies: number }> {
    let counts = await openConnections();
    for (let i = 0; i < 100 && counts.redis + counts.postgres + counts.proxies > 0; i++) {
      await sleep(20);
      counts = await openConnections();
    }
    return counts;
  }

  /**
   * Watches timers (referenced or not) created from now on. `settled()` waits until every one has fired or been
   * cleared (its own pauses are not watched) and returns how many are still pending after about 5 s (ioredis force-closes a lingering socket after 2 s): a heartbeat,
   * reconnect or retry loop that outlives stop() keeps re-arming and never lets the count reach zero.
   */
  function watchTimers(): { settled(): Promise<number> } {
    const live = new Set<number>();
    let ignoring = false;
    const hook = createHook({
      init(asyncId, type) {
        if (type === "Timeout" && !ignoring) live.add(asyncId);
      },
      destroy(asyncId) {
        live.delete(asyncId);
      },
    }).enable();
    const pause = (ms: number) => {
      ignoring = true;
      const paused = new Promise((resolve) => setTimeout(resolve, ms));
      ignoring = false;
      return paused;
    };
    return {
      async settled() {
        for (let i = 0; i < 250 && live.size > 0; i++) await pause(20);
        hook.disable();
        return live.size;
      },
    };
  }

  it("stop() while start() waits on a slow Redis ends stopped, start() rejects, nothing stays open", async () => {
    const timers = watchTimers();
    redisProxy.delay(400);
    try {
      const runtime = newRuntime(true);
      const starting = runtime.start().then(
        () => "started",
        (error: unknown) => error,
      );
      // Wait until start() is talking to Redis (its connection is open through the proxy).
      for (let i = 0; i < 200 && redisProxy.connections === 0; i++) await sleep(5);
      expect(redisProxy.connections).toBeGreaterThan(0);
      expect(runtime.state).toBe("starting");
      const stopping = runtime.stop();
      expect(runtime.stop()).toBe(stopping); // the same promise: idempotent and awaitable
      await stopping;
      expect(runtime.state).toBe("stopped");
      expect(await starting).toBeInstanceOf(RuntimeStateError);
      await runtime.stop();
      expect(runtime.state).toBe("stopped");
      await expect(runtime.start()).rejects.toBeInstanceOf(RuntimeStateError);
      expect(() => runtime.context()).toThrow(RuntimeStateError);
    } finally {
      redisProxy.delay(0);
    }
    expect(await settledConnections()).toEqual({ redis: 0, postgres: 0, proxies: 0 });
    expect(await timers.settled()).toBe(0); // no heartbeat, reconnect, retry or drain timer outlives stop()
  });

  it("a started runtime with push armed and a read served leaves no connection and no timer after stop()", async () => {
    const timers = watchTimers();
    const runtime = newRuntime(true);
    await runtime.start();
    const ctx = runtime.context();
    const created = await ctx.document.command(products).create({ name: "x", price: 1 });
    await ctx.document.query(products).get(created.id);
    expect(runtime.stats().caches.products?.push.state).toBe("armed");
    await runtime.stop();
    expect(runtime.state).toBe("stopped");
    expect(await settledConnections()).toEqual({ redis: 0, postgres: 0, proxies: 0 });
    expect(await timers.settled()).toBe(0);
  });

  it("a heartbeat timeout shorter than its interval is allowed: push arms and stays armed across heartbeats", async () => {
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: redis.url },
      // Timeout below the interval, yet long enough that a loaded 2-core machine (the whole suite running) does not
      // miss a PONG: 20 ms did once (disarmed), which is what the timeout is for, not what this test is about.
      push: { heartbeatIntervalMs: 150, heartbeatTimeoutMs: 100 },
    });
    try {
      await sleep(700); // about four heartbeats
      const push = system.runtime.stats().caches.products?.push;
      expect(push?.state).toBe("armed");
      expect(push?.disarmings).toBe(0);
    } finally {
      await system.stop();
    }
  });

  it("any interleaving of start() and stop() ends stopped with every connection closed", async () => {
    type Step = { readonly call: "start" | "stop"; readonly waitMs: number };
    let interrupted = 0; // runs where stop() landed while start() was in progress
    const step = fc.record({ call: fc.constantFrom("start" as const, "stop" as const), waitMs: fc.nat({ max: 60 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 5 }),
        fc.nat({ max: 40 }),
        fc.nat({ max: 40 }),
        fc.boolean(),
        async (steps: Step[], redisDelay, pgDelay, push) => {
          redisProxy.delay(redisDelay);
          pgProxy.delay(pgDelay);
          const runtime = newRuntime(push);
          const starts: Array<Promise<unknown>> = [];
          const stops: Array<Promise<void>> = [];
          let stopCalled = false;
          try {
            for (const { call, waitMs } of steps) {
              if (call === "start") {
                starts.push(
                  runtime.start().then(
                    () => "started",
                    (error: unknown) => error,
                  ),
                );
              } else {
                stopCalled = true;
                stops.push(runtime.stop());
              }
              if (waitMs > 0) await sleep(waitMs);
            }
            const outcomes = await Promise.all(starts);
            await Promise.all(stops);
            // Only the first start() may succeed, and only if no stop() came before it finished.
            for (const outcome of outcomes.slice(1)) expect(outcome).toBeInstanceOf(RuntimeStateError);
            if (outcomes[0] !== undefined && outcomes[0] !== "started") {
              expect(outcomes[0]).toBeInstanceOf(RuntimeStateError);
              expect(stopCalled).toBe(true);
              if (/before start\(\) finished/.test((outcomes[0] as Error).message)) interrupted++;
            }
            if (stopCalled) expect(runtime.state).toBe("stopped");
          } finally {
            await runtime.stop();
          }
          expect(runtime.state).toBe("stopped");
          redisProxy.delay(0);
          pgProxy.delay(0);
          expect(await settledConnections()).toEqual({ redis: 0, postgres: 0, proxies: 0 });
        },
      ),
      { numRuns: 25 },
    );
    expect(interrupted).toBeGreaterThan(0); // the race this property is about did happen
  });
});

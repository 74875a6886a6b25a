/**
 * `runtime.health()` under the fault harness: a private redis-server SIGKILLed and restarted (push down then ok,
 * Redis degraded then down then ok by its probe), and Postgres cut through the TCP proxy (degraded, down, not
 * ready; ok and ready once restored). Every transition is logged — warn for degraded and down, info for recovery —
 * with the very reason string health() shows.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { FAST_TIMING, pushProducts, waitForState } from "../support/push-runtime.js";
import { integrationEnv } from "../support/services.js";
import { productSpec } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; reason: unknown; dependency: unknown }> = [];
  debug() {}
  info(message: string, fields?: Readonly<Record<string, unknown>>) {
    this.lines.push({ level: "info", message, reason: fields?.reason, dependency: fields?.dependency });
  }
  warn(message: string, fields?: Readonly<Record<string, unknown>>) {
    this.lines.push({ level: "warn", message, reason: fields?.reason, dependency: fields?.dependency });
  }
  error() {}
  /** The health lines of one dependency, as `level state|recovered reason`. */
  of(dependency: string) {
    return this.lines.filter((line) => line.dependency === dependency);
  }
}

describe.skipIf(env.skip)("runtime.health()", () => {
  const systems: System[] = [];
  afterEach(async () => {
    for (const system of systems.splice(0)) await system.stop();
  });

  it("Redis SIGKILL and restart: push down, Redis degraded then down; both ok again; logged with the same reasons", async () => {
    const logger = new RecordingLogger();
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      push: FAST_TIMING,
      redisTimeoutMs: 300,
      logger,
    });
    systems.push(system);
    const { runtime } = system;
    const health = () => runtime.health().dependencies;
    expect(runtime.health().ready).toBe(true);
    expect(Object.fromEntries(Object.entries(health()).map(([name, h]) => [name, `${h.kind} ${h.state}`]))).toEqual({
      postgres: "postgres ok",
      redis: "redis ok",
      push: "push ok",
    });
    const created = await runtime.context().document.command(pushProducts).create({ name: "a", price: 1 });
    const query = runtime.context().document.query(pushProducts);

    await system.redisServer!.kill();
    await waitForState(runtime, "disarmed", 3_000);
    expect(health().push).toMatchObject({ state: "down", reason: expect.stringMatching(/^push channel lost/) });
    await query.get(created.id); // L2 fails: Postgres answers (and L1 is closed while push is down)
    expect(health().redis).toMatchObject({ state: "degraded", reason: expect.stringMatching(/^read failed: /) });
    await query.get(created.id);
    await query.get(created.id);
    expect(health().redis?.state).toBe("down");
    // Redis down does not fail readiness: reads are served from Postgres.
    expect(runtime.health().ready).toBe(true);
    const [degraded, down] = logger.of("redis");
    expect(degraded).toMatchObject({ level: "warn", message: `redis degraded: ${degraded?.reason}` });
    expect(down).toMatchObject({ level: "warn", message: `redis down: ${health().redis?.reason}` });
    expect(logger.of("push")[0]).toMatchObject({ level: "warn", reason: health().push?.reason });

    await system.redisServer!.restart();
    await waitUntil(() => health().redis?.state === "ok" && health().push?.state === "ok", {
      timeoutMs: 5_000,
      intervalMs: 10,
      message: "never recovered",
    });
    expect(health().redis?.reason).toBe("ok");
    expect(logger.of("redis").map((line) => `${line.level} ${line.message.split(":")[0]}`)).toEqual([
      "warn redis degraded",
      "warn redis down",
      "info redis recovered",
    ]);
    expect(logger.of("push").map((line) => `${line.level} ${line.message.split(":")[0]}`)).toEqual([
      "warn push down",
      "info push recovered",
    ]);
  });

  it("Postgres cut through the proxy: degraded, then down and not ready; restored: ok and ready", async () => {
    const logger = new RecordingLogger();
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "none",
      proxy: "postgres",
      queryTimeoutMs: 1_000,
      logger,
    });
    systems.push(system);
    const { runtime } = system;
    const products = productSpec(undefined);
    const created = await runtime.context().document.command(products).create({ name: "a", price: 1 });
    const query = runtime.context().document.query(products);
    system.proxy!.cut();
    await expect(query.get(created.id)).rejects.toThrow();
    expect(runtime.health().dependencies.postgres?.state).toBe("degraded");
    await expect(query.get(created.id)).rejects.toThrow();
    await expect(query.get(created.id)).rejects.toThrow();
    expect(runtime.health()).toMatchObject({ ready: false, dependencies: { postgres: { state: "down" } } });
    expect(logger.of("postgres").map((line) => line.level)).toEqual(["warn", "warn"]);
    expect(logger.of("postgres")[1]?.reason).toBe(runtime.health().dependencies.postgres?.reason);

    system.proxy!.restore();
    await waitUntil(() => runtime.health().ready, { timeoutMs: 5_000, intervalMs: 10, message: "never ready again" });
    expect(runtime.health().dependencies.postgres).toMatchObject({ state: "ok", reason: "ok" });
    expect(logger.of("postgres").at(-1)).toMatchObject({ level: "info", message: "postgres recovered" });
    expect((await query.get(created.id)).price).toBe(1);
  });
});

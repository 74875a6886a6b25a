/**
 * The change-capture relay in `runtime.health()`: `change-capture` goes degraded then down when the relay cannot
 * reach Postgres (cut through the TCP proxy) or cannot apply (Redis killed), and ok again once a batch is applied;
 * each transition is logged (warn, info for the recovery; rate-limited) with the reason `health()` shows. While Redis is down the
 * outbox backlog shows as `depth` in the capture stats and as `stratacache.capture.depth` in the OTel adapter.
 * Runtime A (Postgres behind the proxy) relays with a 20 ms poll; writes come from peer B (no relay, no proxy).
 */
import { randomUUID } from "node:crypto";
import type { Attributes } from "@opentelemetry/api";
import { type DataPoint, MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger, Runtime } from "../../src/index.js";
import { instrumentStratacache, type StratacacheInstrumentation } from "../../src/otel/index.js";
import { captureStats } from "../support/capture.js";
import { waitUntil } from "../support/eventually.js";
import { TestReader } from "../support/metric-reader.js";
import { pushProducts } from "../support/push-runtime.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

/** Every log line of the `change-capture` dependency: `level message`. */
class HealthLog implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(message: string): void {
    if (message.startsWith("change-capture")) this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    if (message.startsWith("change-capture")) this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

describe.skipIf(env.skip)("change-capture relay health", () => {
  let system: System;
  let a: Runtime;
  let b: Runtime;
  const log = new HealthLog();
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  let instrumentation: StratacacheInstrumentation;

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      proxy: "postgres",
      changeCapture: "outbox",
      changeRelay: { pollInterval: 20, applyTimeout: 300 },
      specs: [pushProducts],
      queryTimeoutMs: 500,
      redisTimeoutMs: 200,
      logger: log,
    });
    a = system.runtime;
    b = await system.startPeer({ changeRelay: { enabled: false } });
    instrumentation = instrumentStratacache({ meterProvider, runtime: a, spans: false });
  });
  afterAll(async () => {
    instrumentation?.dispose();
    await b?.stop();
    await system?.stop();
    await meterProvider.shutdown();
  });

  const relay = () => a.health().dependencies["change-capture"];
  const waitState = (state: string) =>
    waitUntil(() => relay()?.state === state, { timeoutMs: 10_000, intervalMs: 5, message: `relay never ${state}` });
  const create = () =>
    b
      .context()
      .document.command(pushProducts)
      .create({ name: `h-${randomUUID().slice(0, 6)}`, price: 1 });
  const depthMetric = async () => {
    const { resourceMetrics } = await reader.collect();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== "stratacache.capture.depth") continue;
        for (const point of metric.dataPoints as Array<DataPoint<number>>) {
          const attrs: Attributes = point.attributes;
          if (attrs["cache.document"] === "products" && attrs["cache.capture_mode"] === "outbox") return point.value;
        }
      }
    }
    return undefined;
  };

  it("goes degraded, down and ok again as the relay loses and regains Postgres", async () => {
    expect(relay()).toMatchObject({ state: "ok", kind: "change-capture" });
    expect(a.health().ready).toBe(true);
    system.proxy!.cut();
    await waitState("down");
    expect(relay()?.reason).toMatch(/^outbox relay: applying changes failed \(.+\)$/);
    await create(); // B writes meanwhile: its outbox row waits for the relay
    system.proxy!.restore();
    await waitState("ok");
    await waitUntil(() => captureStats(a).applied >= 1, { timeoutMs: 5_000, intervalMs: 5 });
    const reason = log.lines
      .find((l) => l.startsWith("warn change-capture down"))
      ?.replace(/^warn change-capture down: /, "");
    expect(log.lines).toEqual([
      expect.stringMatching(/^warn change-capture degraded: outbox relay: applying changes failed/),
      `warn change-capture down: ${reason}`,
      "info change-capture recovered",
    ]);
  });

  it("shows the outbox backlog as depth (stats and OTel) while Redis is down, 0 once drained", async () => {
    await system.redisServer!.kill();
    await create();
    await create();
    await waitUntil(() => captureStats(a).depth === 2 && relay()?.state !== "ok", {
      timeoutMs: 10_000,
      intervalMs: 5,
      message: "the backlog never showed",
    });
    expect(await depthMetric()).toBe(2);
    expect(relay()?.reason).toMatch(/^outbox relay: applying changes failed \(.+\)$/);
    await system.redisServer!.restart();
    await waitUntil(() => captureStats(a).depth === 0 && relay()?.state === "ok", {
      timeoutMs: 10_000,
      intervalMs: 5,
      message: "the backlog never drained",
    });
    expect(await depthMetric()).toBe(0);
  });
});

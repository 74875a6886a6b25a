/**
 * The OpenTelemetry adapter (`stratacache/otel`) with the SDK's own in-memory metric reader and span exporter:
 * exact counts for the scripted scenario (create, miss and fill, L2 hit, L1 hit, update, Redis SIGKILL, restart),
 * bounded attributes (no ids on metrics), and spans for reads past L1 with their Redis and Postgres children.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRATACACHE_CHANNELS } from "../../src/index.js";
import { instrumentStratacache, type StratacacheInstrumentation } from "../../src/otel/index.js";
import { waitUntil } from "../support/eventually.js";
import { attributesKey, collectPoints, pointValue, TestReader } from "../support/metric-reader.js";
import { FAST_TIMING, pushProducts, waitForState } from "../support/push-runtime.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe.skipIf(env.skip)("stratacache/otel", () => {
  let system: System;
  let instrumentation: StratacacheInstrumentation;
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  let pushes = 0;
  const onPush = () => {
    pushes++;
  };

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      push: FAST_TIMING,
      redisTimeoutMs: 300,
    });
    instrumentation = instrumentStratacache({
      meterProvider,
      tracerProvider,
      runtime: system.runtime,
      requireParentSpan: false, // no context manager here: every span would otherwise be skipped
    });
    diagnostics_channel.subscribe(STRATACACHE_CHANNELS.invalidate, onPush);
  });
  afterAll(async () => {
    diagnostics_channel.unsubscribe(STRATACACHE_CHANNELS.invalidate, onPush);
    instrumentation?.dispose();
    await system?.stop();
    await meterProvider.shutdown();
  });

  const collect = () => collectPoints(reader);
  const value = pointValue;
  const waitPushes = (n: number) =>
    waitUntil(() => pushes >= n, { timeoutMs: 5_000, intervalMs: 2, message: `fewer than ${n} invalidations` });

  it("reports exact counts and spans for the scripted scenario", async () => {
    const { runtime } = system;
    const command = runtime.context().document.command(pushProducts);
    const query = runtime.context().document.query(pushProducts);
    const created = await command.create({ name: "a", price: 1 }); // local invalidation 1
    await query.get(created.id); // miss, fill
    await runtime.settled(); // the fill lands behind the read
    await waitPushes(2); // the fill's push
    await query.get(created.id); // L2 hit (a lag sample)
    await query.get(created.id); // L1 hit
    await command.update(created.id, created.rev, { price: 2 }); // local invalidation 2
    await waitPushes(4); // the write-through's push
    await system.redisServer!.kill();
    await waitForState(runtime, "disarmed", 3_000);
    await query.get(created.id); // GET fails: Postgres
    await system.redisServer!.restart();
    await waitForState(runtime, "armed", 3_000);
    await waitUntil(() => runtime.health().dependencies.redis?.state === "ok", { timeoutMs: 5_000, intervalMs: 10 });

    const m = await collect();
    const doc = { "cache.document": "products" };
    expect(value(m, "stratacache.lookups", { ...doc, "cache.tier": "postgres", "cache.result": "miss" })).toBe(2);
    expect(value(m, "stratacache.lookups", { ...doc, "cache.tier": "l2", "cache.result": "hit" })).toBe(1);
    expect(value(m, "stratacache.lookups", { ...doc, "cache.tier": "l1", "cache.result": "hit" })).toBe(1);
    expect(value(m, "stratacache.read.duration", { ...doc, "cache.tier": "postgres", "cache.result": "miss" })).toBe(2);
    expect(value(m, "stratacache.read.duration", { ...doc, "cache.tier": "l1", "cache.result": "hit" })).toBe(0);
    expect(value(m, "stratacache.fills", { ...doc, "cache.result": "stored" })).toBe(1);
    expect(
      value(m, "stratacache.write_throughs", { ...doc, "cache.operation": "create", "cache.result": "stored" }),
    ).toBe(1);
    expect(
      value(m, "stratacache.write_throughs", { ...doc, "cache.operation": "update", "cache.result": "stored" }),
    ).toBe(1);
    expect(value(m, "stratacache.invalidations", { ...doc, "cache.source": "local" })).toBe(2);
    expect(value(m, "stratacache.invalidations", { ...doc, "cache.source": "push" })).toBe(2);
    expect(value(m, "stratacache.invalidation.lag", doc)).toBe(1);
    expect(value(m, "stratacache.l1.flushes", { ...doc, "cache.reason": "disarm" })).toBe(1);
    expect(value(m, "stratacache.l1.flushes", { ...doc, "cache.reason": "rearm" })).toBe(1);
    expect(value(m, "stratacache.errors", { ...doc, "db.system.name": "redis", "cache.operation": "read" })).toBe(1);
    expect(value(m, "stratacache.push.transitions", { "cache.channel": "push", "cache.state": "disarmed" })).toBe(1);
    expect(value(m, "stratacache.push.transitions", { "cache.channel": "push", "cache.state": "armed" })).toBe(1);
    const db = (system: string, operation: string, error?: string) => ({
      "db.system.name": system,
      "db.operation.name": operation,
      ...(error === undefined ? {} : { "error.type": error }),
    });
    expect(value(m, "db.client.operation.duration", db("redis", "GET"))).toBe(2);
    expect(value(m, "db.client.operation.duration", db("postgresql", "SELECT"))).toBe(2);
    expect(value(m, "db.client.operation.duration", db("redis", "EVALSHA"))).toBe(3); // clear, fill, write-through
    const failedGets = [...(m.get("db.client.operation.duration")?.keys() ?? [])].filter((k) =>
      k.includes("error.type"),
    );
    expect(failedGets).toHaveLength(1);
    // Gauges from the runtime: the L1 size, and each dependency's state.
    expect(value(m, "stratacache.health", { "cache.dependency": "redis", "cache.state": "ok" })).toBe(1);
    expect(value(m, "stratacache.health", { "cache.dependency": "push", "cache.state": "down" })).toBe(0);
    expect(m.get("stratacache.l1.entries")?.get(attributesKey(doc))?.value).toBe(0);
    // Bounded cardinality: no id anywhere in a metric attribute.
    for (const points of m.values()) for (const k of points.keys()) expect(k).not.toContain(created.id);

    const finished = spans.getFinishedSpans();
    const reads = finished.filter((span) => span.name === "stratacache.read");
    expect(reads.map((span) => `${span.attributes["cache.tier"]} ${span.attributes["cache.result"]}`)).toEqual([
      "postgres miss",
      "l2 hit",
      "postgres miss",
    ]);
    const children = (read: (typeof reads)[number]) =>
      finished.filter((span) => span.parentSpanContext?.spanId === read.spanContext().spanId).map((span) => span.name);
    // The fill's EVALSHA belongs to the read that filled (not after Redis died: no fill then).
    expect(reads.map(children)).toEqual([["GET", "SELECT", "EVALSHA"], ["GET"], ["GET", "SELECT"]]);
    expect(finished.filter((span) => span.name === "stratacache.write")).toHaveLength(2);
    expect(finished.filter((span) => span.name === "EVALSHA")).toHaveLength(3);
    expect(finished.every((span) => span.attributes["cache.key"] === undefined)).toBe(true);
  });

  it("makes one getMany span per batch past L1, the parent of its MGET, SELECT and EVALSHA", async () => {
    const { runtime } = system;
    const command = runtime.context().document.command(pushProducts);
    const query = runtime.context().document.query(pushProducts);
    const one = await command.create({ name: "m1", price: 1 }); // a create leaves L2 empty: read, then filled
    const absent = "00000000-0000-4000-8000-000000000001"; // no row: read from Postgres, nothing to fill
    spans.reset();
    expect((await query.findMany([one.id, absent])).map((doc) => doc?.id)).toEqual([one.id, undefined]);
    await runtime.settled(); // the batch's fill lands after the batch answered; its span is still the batch's child
    const finished = spans.getFinishedSpans();
    const batches = finished.filter((span) => span.name === "stratacache.getMany");
    expect(batches).toHaveLength(1);
    expect(batches[0]?.attributes).toMatchObject({ "cache.document": "products", "cache.keys": 2, "cache.fetched": 2 });
    const children = finished
      .filter((span) => span.parentSpanContext?.spanId === batches[0]?.spanContext().spanId)
      .map((span) => span.name);
    expect(children).toEqual(["MGET", "SELECT", "EVALSHA"]);
    expect(finished.filter((span) => span.name === "stratacache.read")).toHaveLength(0); // per id: events, no spans
  });

  it("dbMetrics: false records no db.client.operation.duration (the pg/ioredis instrumentations' metric)", async () => {
    const ownReader = new TestReader();
    const ownProvider = new MeterProvider({ readers: [ownReader] });
    const own = instrumentStratacache({ meterProvider: ownProvider, spans: false, dbMetrics: false });
    try {
      const { runtime } = system;
      const created = await runtime.context().document.command(pushProducts).create({ name: "d", price: 1 });
      await runtime.context().document.query(pushProducts).get(created.id); // GET, SELECT, EVALSHA
      await runtime.settled();
      const { resourceMetrics } = await ownReader.collect();
      const names = resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.filter((metric) => metric.dataPoints.length > 0).map((metric) => metric.descriptor.name),
      );
      expect(names).toContain("stratacache.read.duration");
      expect(names).not.toContain("db.client.operation.duration");
    } finally {
      own.dispose();
      await ownProvider.shutdown();
    }
  });
});

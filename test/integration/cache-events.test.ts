/**
 * The key/value cache API on the diagnostics channels (`stratacache:cache.read`, `cache.write`, `cache.error`) and
 * in the OpenTelemetry adapter: a scripted scenario on a memory cache with L1 (miss and fill, L1 hit, store hit,
 * batch, stale, grace, error, refused add, delete, clear), then a Redis cache whose connection is cut through the TCP
 * proxy (getOrSet absorbs the failed read and fill). The subscriber sees the documented events in order; the
 * adapter, with the SDK's in-memory reader and span exporter, reports the same counts, with no key on any metric.
 */

import { randomUUID } from "node:crypto";
import diagnostics_channel from "node:diagnostics_channel";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheErrorEvent, CacheReadEvent, CacheWriteEvent, Runtime } from "../../src/index.js";
import { createRuntime, memoryCacheModule, redisModule, STRATACACHE_CHANNELS, silentLogger } from "../../src/index.js";
import { instrumentStratacache, type StratacacheInstrumentation } from "../../src/otel/index.js";
import { collectPoints, pointValue, TestReader } from "../support/metric-reader.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock } from "../support/strata.js";
import { proxiedUrl, proxyTo, type TcpProxy } from "../support/tcp-proxy.js";
import { rejection } from "../support/throws.js";

const env = await integrationEnv({ redis: true });

function line(name: string, message: unknown): string {
  const C = STRATACACHE_CHANNELS;
  if (name === C.cacheRead) {
    const e = message as CacheReadEvent;
    const timed = e.startTime > 0 && e.durationMs >= 0 ? "" : " untimed";
    return `read ${e.cache} ${e.op} ${e.key} ${e.tier ?? "-"} ${e.outcome} ${e.l1Hits}/${e.l2Hits}/${e.misses}${timed}`;
  }
  if (name === C.cacheWrite) {
    const e = message as CacheWriteEvent;
    return `write ${e.cache} ${e.op} ${e.key ?? "-"} x${e.keys} ${e.result}`;
  }
  const e = message as CacheErrorEvent;
  return `error ${e.cache} ${e.operation}`;
}

describe("key/value cache events", () => {
  const lines: string[] = [];
  const handlers: Array<[string, (message: unknown) => void]> = [];
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  let instrumentation: StratacacheInstrumentation;
  const clock = new ManualClock(Date.now());
  let runtime: Runtime;
  let redisRuntime: Runtime | undefined;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    for (const name of [
      STRATACACHE_CHANNELS.cacheRead,
      STRATACACHE_CHANNELS.cacheWrite,
      STRATACACHE_CHANNELS.cacheError,
    ]) {
      const handler = (message: unknown) => lines.push(line(name, message));
      diagnostics_channel.subscribe(name, handler);
      handlers.push([name, handler]);
    }
    instrumentation = instrumentStratacache({ meterProvider, tracerProvider, requireParentSpan: false });
    runtime = createRuntime({
      modules: [memoryCacheModule({ caches: { kv: { ttl: "1m", l1: { ttl: "1h" } } } })],
      clock,
      logger: silentLogger,
    });
    await runtime.start();
  });
  afterAll(async () => {
    for (const [name, handler] of handlers) diagnostics_channel.unsubscribe(name, handler);
    instrumentation?.dispose();
    await runtime?.stop();
    await redisRuntime?.stop();
    await proxy?.close();
    await meterProvider.shutdown();
  });

  const collect = () => collectPoints(reader);
  const value = pointValue;

  it("publishes reads, writes and fills in order, and the adapter counts them by cache name", async () => {
    const kv = runtime.cache("kv");
    expect(await kv.getOrSet("a", () => 1)).toBe(1); // miss: the loader answers, the fill stores it
    expect(await kv.getOrSet("a", () => 2)).toBe(1); // the store answers
    expect(await kv.getOrSet("a", () => 2)).toBe(1); // L1 hit (the synchronous path: untimed)
    expect(await kv.get("b")).toBeUndefined(); // miss
    await kv.set("b", 2);
    expect(await kv.get("b")).toBe(2); // the store answers (set dropped the L1 copy), L1 filled
    expect(await kv.getMany(["a", "b", "x"])).toEqual([1, 2, undefined]); // two L1 hits, one miss
    expect(await kv.add("b", 3)).toBe(false); // refused: present
    // Stale, then grace: past the ttl (1 min) within grace (1 h).
    await kv.getOrSet("g", () => "g1", { grace: "1h" });
    clock.advance(120_000);
    expect(await kv.getOrSet("g", () => "g2", { grace: "1h" })).toBe("g2"); // stale: the loader answers
    clock.advance(120_000);
    const failing = () => {
      throw new Error("origin down");
    };
    expect(await kv.getOrSet("g", failing, { grace: "1h" })).toBe("g2"); // grace
    expect(await rejection(kv.getOrSet("e", failing))).toBeInstanceOf(Error); // error: nothing to fall back on
    await kv.delete("a");
    await kv.clear();

    expect(lines).toEqual([
      "write kv fill a x1 ok", // a fill ends before the read it belongs to
      "read kv getOrSet a loader miss 0/0/1",
      "read kv getOrSet a l2 hit 0/1/0", // the fill dropped the L1 copy; this read fills L1 again
      "read kv getOrSet a l1 hit 1/0/0 untimed",
      "read kv get b - miss 0/0/1",
      "write kv set b x1 ok",
      "read kv get b l2 hit 0/1/0",
      "read kv getMany a - miss 2/0/1",
      "write kv add b x1 refused",
      "write kv fill g x1 ok",
      "read kv getOrSet g loader miss 0/0/1",
      "write kv fill g x1 ok",
      "read kv getOrSet g loader stale 0/0/1",
      "read kv getOrSet g l2 grace 0/0/1",
      "read kv getOrSet e - error 0/0/0",
      "write kv delete a x1 ok",
      "write kv clear - x0 ok",
    ]);

    const m = await collect();
    const kvName = { "cache.name": "kv" };
    const lookups = (tier: string | undefined, result: string) =>
      value(m, "stratacache.cache.lookups", {
        ...kvName,
        "cache.result": result,
        ...(tier === undefined ? {} : { "cache.tier": tier }),
      });
    expect(lookups("l1", "hit")).toBe(3); // getOrSet a, getMany a and b
    expect(lookups("l2", "hit")).toBe(2);
    expect(lookups("loader", "miss")).toBe(2);
    expect(lookups(undefined, "miss")).toBe(2); // get b, getMany x
    expect(lookups("loader", "stale")).toBe(1);
    expect(lookups("l2", "grace")).toBe(1);
    expect(lookups(undefined, "error")).toBe(1);
    const writes = (op: string, result: string) =>
      value(m, "stratacache.cache.writes", { ...kvName, "cache.operation": op, "cache.result": result });
    expect(writes("fill", "ok")).toBe(3);
    expect(writes("set", "ok")).toBe(1);
    expect(writes("add", "refused")).toBe(1);
    expect(writes("delete", "ok")).toBe(1);
    expect(writes("clear", "ok")).toBe(1);
    // Every timed call: 7 getOrSet (one L1 hit untimed), 2 get, 1 getMany.
    const duration = (op: string) =>
      value(m, "stratacache.cache.operation.duration", { ...kvName, "cache.operation": op });
    expect(duration("getOrSet")).toBe(6);
    expect(duration("get")).toBe(2);
    expect(duration("getMany")).toBe(1);
    // No key ever becomes an attribute.
    for (const [name, points] of m) {
      if (!name.startsWith("stratacache.cache.")) continue;
      for (const attributes of points.keys()) expect(attributes).not.toMatch(/cache\.key|=a\b|=b\b|=g\b/);
    }
    const names = spans.getFinishedSpans().map((span) => span.name);
    expect(names.filter((n) => n === "stratacache.cache.getOrSet")).toHaveLength(6);
    expect(names.filter((n) => n === "stratacache.cache.fill")).toHaveLength(3);
    const grace = spans.getFinishedSpans().find((span) => span.attributes["cache.result"] === "grace");
    expect(grace?.attributes).toMatchObject({ "cache.name": "kv", "cache.tier": "l2", "cache.hit": true });
    expect(grace?.attributes["cache.key"]).toBeUndefined();
  });

  it.skipIf(env.skip)("reports the store failures getOrSet absorbs (Redis cut through the proxy)", async () => {
    proxy = await proxyTo(env.redisUrl as string);
    const namespace = `kvev:${randomUUID().slice(0, 8)}`;
    redisRuntime = createRuntime({
      modules: [
        redisModule({ url: proxiedUrl(env.redisUrl as string, proxy), caches: { r: { namespace } }, timeoutMs: 300 }),
      ],
      logger: silentLogger,
    });
    await redisRuntime.start();
    const r = redisRuntime.cache("r");
    lines.length = 0;
    proxy.cut();
    expect(await r.getOrSet("k", () => "loaded")).toBe("loaded");
    proxy.restore();
    expect(lines).toEqual([
      "error r read",
      "write r fill k x1 failed",
      "error r write",
      "read r getOrSet k loader miss 0/0/1",
    ]);
    const m = await collect();
    expect(value(m, "stratacache.cache.errors", { "cache.name": "r", "cache.operation": "read" })).toBe(1);
    expect(value(m, "stratacache.cache.errors", { "cache.name": "r", "cache.operation": "write" })).toBe(1);
    expect(
      value(m, "stratacache.cache.writes", { "cache.name": "r", "cache.operation": "fill", "cache.result": "failed" }),
    ).toBe(1);
  });
});

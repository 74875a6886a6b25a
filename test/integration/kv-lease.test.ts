/**
 * getOrSet's fill lease in one process, runtimes side by side on one Redis (the cross-process cases are in
 * kv-lease-processes.test.ts): a holder whose loader throws releases the lease, so a waiter leases and loads at
 * once; Redis down leaves getOrSet answered by the loader; the options are checked and a call can opt out; lease
 * events (`stratacache:lease`) and the OTel adapter's lease counters.
 */

import { randomUUID } from "node:crypto";
import diagnostics_channel from "node:diagnostics_channel";
import type { Attributes } from "@opentelemetry/api";
import { type DataPoint, MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import type { LeaseEvent, Runtime } from "../../src/index.js";
import { createRuntime, redisModule, STRATACACHE_CHANNELS, silentLogger } from "../../src/index.js";
import { instrumentStratacache } from "../../src/otel/index.js";
import { waitUntil } from "../support/eventually.js";
import { TestReader } from "../support/metric-reader.js";
import { integrationEnv } from "../support/services.js";
import { proxiedUrl, proxyTo, type TcpProxy } from "../support/tcp-proxy.js";

const env = await integrationEnv({ redis: true });

describe.skipIf(env.skip)("getOrSet fill lease", () => {
  const runtimes: Runtime[] = [];
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  const start = async (namespace: string, lease: unknown, url = env.redisUrl!) => {
    const runtime = createRuntime({
      modules: [
        redisModule({
          url,
          timeoutMs: 200,
          caches: { c: { namespace, ...(lease === undefined ? {} : { lease: lease as true }) } },
        }),
      ],
      logger: silentLogger,
    });
    runtimes.push(runtime);
    await runtime.start();
    return runtime.cache("c");
  };

  it("a holder whose loader throws releases the lease: a waiter leases and loads at once", async () => {
    const namespace = `kl:${randomUUID().slice(0, 8)}`;
    // A lease life longer than the test: a waiter that ends at all was handed the released lease.
    const lease = { ttl: "60s", maxWait: "60s" };
    const holder = await start(namespace, lease);
    const waiter = await start(namespace, lease);
    let fail: (error: Error) => void = () => {};
    const failing = holder.getOrSet("k", () => new Promise<string>((_, reject) => (fail = reject)));
    failing.catch(() => {});
    await waitUntil(() => holder.stats().lease?.granted === 1);
    const waited = waiter.getOrSet("k", async () => "from the waiter");
    await waitUntil(() => waiter.stats().lease?.waits === 1);
    fail(new Error("loader failed"));
    await expect(failing).rejects.toThrow("loader failed");
    expect(await waited).toBe("from the waiter");
    expect(waiter.stats().lease).toMatchObject({ granted: 1, waits: 1, holderTimeouts: 0, fallbacks: 0 });
    expect(await holder.get("k")).toBe("from the waiter");
  }, 20_000);

  it("a holder's loader returns undefined (not cached): its waiters get undefined without loading", async () => {
    const namespace = `kl:${randomUUID().slice(0, 8)}`;
    const lease = { ttl: "60s", maxWait: "60s" };
    const holder = await start(namespace, lease);
    const waiter = await start(namespace, lease);
    let open: (value: undefined) => void = () => {};
    const held = holder.getOrSet("k", () => new Promise<undefined>((resolve) => (open = resolve)));
    await waitUntil(() => holder.stats().lease?.granted === 1);
    let loads = 0;
    const waited = waiter.getOrSet("k", async () => {
      loads++;
      return "loaded";
    });
    await waitUntil(() => waiter.stats().lease?.waits === 1);
    open(undefined);
    expect([await held, await waited]).toEqual([undefined, undefined]);
    expect(loads).toBe(0);
    // Within the marker's life a later call is answered the same way; a set drops the marker.
    expect(await waiter.getOrSet("k", async () => "loaded")).toBeUndefined();
    await holder.set("k", "written");
    expect(await waiter.getOrSet("k", async () => "loaded")).toBe("written");
    expect(loads).toBe(0);
  }, 20_000);

  it("Redis down: getOrSet with the lease is answered by the loader, as without one", async () => {
    const proxy = await proxyTo(env.redisUrl!);
    proxies.push(proxy);
    const cache = await start(`kl:${randomUUID().slice(0, 8)}`, true, proxiedUrl(env.redisUrl!, proxy));
    proxy.cut();
    expect(await cache.getOrSet("k", async () => "loaded")).toBe("loaded");
    expect(cache.stats().storeErrors).toBeGreaterThan(0);
    proxy.restore();
  });

  it("options: refused when misspelt; a call may opt in or out; stats show the lease once used", async () => {
    await expect(start(`kl:${randomUUID().slice(0, 8)}`, { maxWiat: "1s" })).rejects.toThrow(/lease/);
    const cache = await start(`kl:${randomUUID().slice(0, 8)}`, undefined);
    await expect(cache.getOrSet("k", async () => 1, { lease: { maxWiat: "1s" } as never })).rejects.toThrow(/maxWiat/);
    expect(await cache.getOrSet("a", async () => 1)).toBe(1);
    expect(cache.stats().lease).toBeUndefined(); // the route does not lease, and no call asked
    expect(await cache.getOrSet("b", async () => 2, { lease: { maxWait: "1s" } })).toBe(2);
    expect(cache.stats().lease).toMatchObject({ granted: 1, waits: 0 });
    const leased = await start(`kl:${randomUUID().slice(0, 8)}`, true);
    expect(await leased.getOrSet("c", async () => 3, { lease: false })).toBe(3);
    expect(leased.stats().lease).toMatchObject({ granted: 0 });
  });

  it("publishes the grant and the wait on stratacache:lease; the OTel adapter counts them", async () => {
    const namespace = `kl:${randomUUID().slice(0, 8)}`;
    const lease = { ttl: "60s", maxWait: "60s" };
    const holder = await start(namespace, lease);
    const waiter = await start(namespace, lease);
    const events: LeaseEvent[] = [];
    const onLease = (message: unknown) => events.push(message as LeaseEvent);
    diagnostics_channel.subscribe(STRATACACHE_CHANNELS.lease, onLease);
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const instrumentation = instrumentStratacache({ meterProvider, spans: false });
    try {
      let open: (value: string) => void = () => {};
      const held = holder.getOrSet("k", () => new Promise<string>((resolve) => (open = resolve)));
      await waitUntil(() => holder.stats().lease?.granted === 1);
      const waited = waiter.getOrSet("k", async () => "not this");
      await waitUntil(() => waiter.stats().lease?.waits === 1);
      open("filled");
      expect([await held, await waited]).toEqual(["filled", "filled"]);
      expect(events.map(({ waitMs, ...rest }) => rest)).toEqual([
        { document: "c", source: "cache", id: "k", action: "granted", outcome: undefined },
        { document: "c", source: "cache", id: "k", action: "waited", outcome: "filled" },
      ]);
      const { resourceMetrics } = await reader.collect();
      const points = new Map<string, number>();
      const key = (name: string, attributes: Attributes) =>
        `${name}|${Object.entries(attributes)
          .map(([k, v]) => `${k}=${String(v)}`)
          .sort()
          .join(",")}`;
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const point of metric.dataPoints as DataPoint<number>[]) {
            points.set(key(metric.descriptor.name, point.attributes), point.value);
          }
        }
      }
      const attrs = { "cache.document": "c", "cache.source": "cache" };
      expect(points.get(key("stratacache.lease.grants", attrs))).toBe(1);
      expect(points.get(key("stratacache.lease.waits", { ...attrs, "cache.result": "filled" }))).toBe(1);
    } finally {
      diagnostics_channel.unsubscribe(STRATACACHE_CHANNELS.lease, onLease);
      instrumentation.dispose();
      await meterProvider.shutdown();
    }
  });
});

/**
 * `stratacache:write.retry`: the retrier publishes each scheduled retry (with the failed attempt's error), the one
 * that lands, and giving up; the OTel adapter counts them as `stratacache.write_through.retries` by result.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { type DataPoint, MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import type { WriteRetryEvent } from "../../src/index.js";
import { STRATACACHE_CHANNELS } from "../../src/index.js";
import { silentLogger } from "../../src/kernel/logger.js";
import { instrumentStratacache } from "../../src/otel/index.js";
import { WriteThroughRetrier } from "../../src/read-through/write-through-retrier.js";
import { waitUntil } from "../support/eventually.js";
import { TestReader } from "../support/metric-reader.js";

describe("write-through retry events", () => {
  const events: string[] = [];
  const onRetry = (message: unknown) => {
    const e = message as WriteRetryEvent;
    const error = e.error instanceof Error ? ` ${e.error.message}` : "";
    events.push(`${e.document} ${e.id} ${e.state} ${e.attempts}${e.state === "scheduled" ? " delayed" : ""}${error}`);
  };
  diagnostics_channel.subscribe(STRATACACHE_CHANNELS.writeRetry, onRetry);
  afterEach(() => {
    events.length = 0;
  });
  const options = { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, quarantineMs: 1_000 };
  const clock = { now: () => 0, random: () => 0.5 };

  it("publishes scheduled, succeeded and gave-up, and the adapter counts them", async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const instrumentation = instrumentStratacache({ meterProvider, spans: false });
    try {
      const retrier = new WriteThroughRetrier("docs", options, clock, silentLogger);
      let calls = 0;
      retrier.schedule("a", {
        incarnation: 1,
        rev: 2,
        run: async () => {
          if (++calls < 3) throw new Error(`down ${calls}`);
        },
      });
      await waitUntil(() => !retrier.isSuspect("a"), { timeoutMs: 2_000, intervalMs: 2 });
      retrier.schedule("b", {
        incarnation: 1,
        rev: 2,
        run: async () => {
          throw new Error("still down");
        },
      });
      await waitUntil(() => events.some((e) => e.includes("gave-up")), { timeoutMs: 2_000, intervalMs: 2 });
      expect(events).toEqual([
        "docs a scheduled 0 delayed",
        "docs a scheduled 1 delayed down 1",
        "docs a scheduled 2 delayed down 2",
        "docs a succeeded 3",
        "docs b scheduled 0 delayed",
        "docs b scheduled 1 delayed still down",
        "docs b scheduled 2 delayed still down",
        "docs b gave-up 3 still down",
      ]);
      const { resourceMetrics } = await reader.collect();
      const counts: Record<string, number> = {};
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== "stratacache.write_through.retries") continue;
          for (const point of metric.dataPoints as Array<DataPoint<number>>) {
            expect(point.attributes["cache.document"]).toBe("docs");
            counts[String(point.attributes["cache.result"])] = point.value;
          }
        }
      }
      expect(counts).toEqual({ scheduled: 6, succeeded: 1, "gave-up": 1 });
    } finally {
      instrumentation.dispose();
      await meterProvider.shutdown();
    }
  });
});

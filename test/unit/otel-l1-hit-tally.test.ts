/**
 * The OTel adapter's L1 hit tally: hits are counted per document even as they alternate between documents (the
 * adapter keeps the last document's tally at hand, and must not count a hit of another document against it).
 */
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { publishL1Hit } from "../../src/observability/publish.js";
import { instrumentStratacache } from "../../src/otel/index.js";
import { collectPoints, pointValue, TestReader } from "../support/metric-reader.js";

describe("OTel L1 hit tally", () => {
  it("counts each document's L1 hits, interleaved or in runs", async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const instrumentation = instrumentStratacache({ meterProvider, spans: false });
    try {
      const hits = ["a", "a", "b", "a", "b", "b", "b", "c", "a"];
      for (const document of hits) publishL1Hit(document, "00000000-0000-4000-8000-000000000000");
      const points = await collectPoints(reader);
      const l1 = (document: string) =>
        pointValue(points, "stratacache.lookups", {
          "cache.document": document,
          "cache.tier": "l1",
          "cache.result": "hit",
        });
      expect([l1("a"), l1("b"), l1("c")]).toEqual([4, 4, 1]);
      publishL1Hit("c", "00000000-0000-4000-8000-000000000000");
      publishL1Hit("a", "00000000-0000-4000-8000-000000000000");
      const again = await collectPoints(reader);
      const total = (document: string) =>
        pointValue(again, "stratacache.lookups", {
          "cache.document": document,
          "cache.tier": "l1",
          "cache.result": "hit",
        });
      expect([total("a"), total("b"), total("c")]).toEqual([5, 4, 2]);
    } finally {
      instrumentation.dispose();
      await meterProvider.shutdown();
    }
  });
});

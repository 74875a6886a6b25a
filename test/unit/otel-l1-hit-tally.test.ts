/**
 * The OTel adapter's L1 hit tally: hits are counted per document even as they alternate between documents (the
 * adapter keeps the last document's tally at hand, and must not count a hit of another document against it).
 */
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { publishL1Hit } from "../../src/observability/publish.js";
import { instrumentStratacache } from "../../src/otel/index.js";
import { collectPoints, pointValue, TestReader } from "../support/metric-reader.js";

const ID = "00000000-0000-4000-8000-000000000000";

/** The `stratacache.lookups` L1 hit count of each document, as collected now. */
async function l1Hits(reader: TestReader, documents: ReadonlyArray<string>): Promise<number[]> {
  const points = await collectPoints(reader);
  return documents.map((document) =>
    pointValue(points, "stratacache.lookups", {
      "cache.document": document,
      "cache.tier": "l1",
      "cache.result": "hit",
    }),
  );
}

describe("OTel L1 hit tally", () => {
  it("counts each document's L1 hits, interleaved or in runs", async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const instrumentation = instrumentStratacache({ meterProvider, spans: false });
    try {
      for (const document of ["a", "a", "b", "a", "b", "b", "b", "c", "a"]) publishL1Hit(document, ID);
      expect(await l1Hits(reader, ["a", "b", "c"])).toEqual([4, 4, 1]);
      publishL1Hit("c", ID);
      publishL1Hit("a", ID);
      expect(await l1Hits(reader, ["a", "b", "c"])).toEqual([5, 4, 2]);
    } finally {
      instrumentation.dispose();
      await meterProvider.shutdown();
    }
  });
});

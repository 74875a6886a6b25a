/**
 * Reading the OpenTelemetry adapter's metrics in tests: a pull reader (`collect()` on demand), every data point of a
 * collection by metric name and attributes, and one point's value.
 */
import type { Attributes } from "@opentelemetry/api";
import { type DataPoint, MetricReader } from "@opentelemetry/sdk-metrics";
import { expect } from "vitest";

/** A pull reader: `collect()` on demand. */
export class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export type Point = DataPoint<unknown>;
/** Metric name → attributes (`k=v,…`, sorted) → data point. */
export type Points = Map<string, Map<string, Point>>;

/** The attributes of a point as one key (`k=v,…`, sorted). */
export function attributesKey(attributes: Attributes): string {
  return Object.entries(attributes)
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort()
    .join(",");
}

/** Every data point of every metric the reader collects now (the collection must report no errors). */
export async function collectPoints(reader: MetricReader): Promise<Points> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const out: Points = new Map();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const points = new Map<string, Point>();
      for (const point of metric.dataPoints as Point[]) points.set(attributesKey(point.attributes), point);
      out.set(metric.descriptor.name, points);
    }
  }
  return out;
}

/** A counter's value, or a histogram's count, for exactly the attributes given; 0 when there is no such point. */
export function pointValue(metrics: Points, name: string, attributes: Attributes): number {
  const point = metrics.get(name)?.get(attributesKey(attributes));
  if (point === undefined) return 0;
  return typeof point.value === "number" ? point.value : (point.value as { count: number }).count;
}

/**
 * The observer rows of the benchmarks: the same case run with nobody listening, with a diagnostics_channel
 * subscriber on every stratacache channel (a no-op function), and with the OpenTelemetry adapter wired to the SDK's
 * in-memory metric reader and span exporter. Each observer is attached only while its own case runs (benchmarks
 * interleave cases round by round), so the other rows pay nothing for it.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { STRATACACHE_CHANNELS } from "../../src/index.js";
import { instrumentStratacache } from "../../src/otel/index.js";

export type ObserverKind = "no subscriber" | "diagnostics subscriber" | "OTel adapter";
export const OBSERVERS: ReadonlyArray<ObserverKind> = ["no subscriber", "diagnostics subscriber", "OTel adapter"];

class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new PullReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const noop = () => {};

/** Attaches the observer; returns its detach. Finished spans are dropped at detach (they would pile up). */
export function attach(kind: ObserverKind): () => void {
  if (kind === "no subscriber") return noop;
  if (kind === "diagnostics subscriber") {
    const names = Object.values(STRATACACHE_CHANNELS);
    for (const name of names) diagnostics_channel.subscribe(name, noop);
    return () => {
      for (const name of names) diagnostics_channel.unsubscribe(name, noop);
    };
  }
  // As configured by default: spans only under a parent span (none here), so the row measures the metrics path.
  const instrumentation = instrumentStratacache({ meterProvider, tracerProvider });
  return () => {
    instrumentation.dispose();
    spans.reset();
  };
}

/** Runs `fn` with the observer attached. */
export async function observed<T>(kind: ObserverKind, fn: () => Promise<T>): Promise<T> {
  const detach = attach(kind);
  try {
    return await fn();
  } finally {
    detach();
  }
}

/** Collects the in-memory metrics once (so the SDK's aggregation work is not deferred forever). */
export async function collectMetrics(): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.reduce((n, scope) => n + scope.metrics.length, 0);
}

import type { Attributes, Context, Counter, Histogram, Meter, Tracer } from "@opentelemetry/api";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { CacheErrorEvent, CacheReadEvent, CacheWriteEvent } from "../observability/cache-events.js";

/** Read buckets, in seconds (as the document reads'). */
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** A tally of one (cache, tier, result), with its attribute object built once. */
interface Tally {
  readonly attrs: Attributes;
  count: number;
}

/**
 * The key/value cache API's metrics and spans (the `stratacache:cache.*` channels), beside the documents' in
 * otel-instrumentation.ts. Attributes are bounded: cache names, operations, tiers and results, never keys.
 *
 * Metrics: `stratacache.cache.lookups` (observable counter, one per key read; `cache.name`, `cache.tier`,
 * `cache.result`), `stratacache.cache.operation.duration` (histogram, s; `cache.name`, `cache.operation`, every
 * timed call), `stratacache.cache.writes` (`cache.name`, `cache.operation`, `cache.result`), `stratacache.cache.errors`
 * (absorbed store failures; `cache.name`, `cache.operation`). Spans: INTERNAL `stratacache.cache.<op>` (e.g.
 * `stratacache.cache.getOrSet`) for timed calls under a parent span (getOrSet's synchronous L1 hits have none).
 */
export class CacheInstruments {
  /** cache → tier → result: plain numbers, reported by an observable counter at collection (as document lookups). */
  readonly #lookups = new Map<string, Map<string, Map<string, Tally>>>();
  /** Attributes per (cache, operation[, result]), built once. */
  readonly #attrs = new Map<string, Attributes>();
  readonly #duration: Histogram;
  readonly #writes: Counter;
  readonly #errors: Counter;

  constructor(
    meter: Meter,
    private readonly tracer: Tracer | undefined,
    private readonly parent: () => Context | undefined,
    private readonly includeKeys: boolean,
  ) {
    const lookups = meter.createObservableCounter("stratacache.cache.lookups", {
      description: "Key/value cache keys read, by the tier that answered and the result.",
    });
    lookups.addCallback((result) => {
      for (const tiers of this.#lookups.values()) {
        for (const results of tiers.values())
          for (const tally of results.values()) result.observe(tally.count, tally.attrs);
      }
    });
    this.#duration = meter.createHistogram("stratacache.cache.operation.duration", {
      unit: "s",
      description: "Key/value cache calls, start to answer.",
      advice: { explicitBucketBoundaries: FAST_BUCKETS },
    });
    this.#writes = meter.createCounter("stratacache.cache.writes", {
      description: "Key/value cache writes, fills, deletes and invalidations.",
    });
    this.#errors = meter.createCounter("stratacache.cache.errors", {
      description: "Key/value store failures getOrSet absorbed.",
    });
  }

  read(event: CacheReadEvent): void {
    if (event.keys === 1 || event.outcome === "error") {
      this.#tally(event.cache, event.tier, event.outcome).count += event.keys === 1 ? 1 : event.keys;
    } else {
      if (event.l1Hits > 0) this.#tally(event.cache, "l1", "hit").count += event.l1Hits;
      if (event.l2Hits > 0) this.#tally(event.cache, "l2", "hit").count += event.l2Hits;
      if (event.misses > 0) {
        this.#tally(event.cache, event.op === "getManyOrSet" ? "loader" : undefined, "miss").count += event.misses;
      }
    }
    if (event.startTime === 0) return; // getOrSet's synchronous L1 hits: counted, never timed
    const attrs = this.#callAttrs(event.cache, event.op, undefined);
    this.#duration.record(event.durationMs / 1000, attrs);
    this.#span(event.op, event.key, event.startTime, event.durationMs, event.error, attrs, (span) => {
      if (event.tier !== undefined) span["cache.tier"] = event.tier;
      span["cache.result"] = event.outcome;
      span["cache.hit"] = event.outcome === "hit" || event.outcome === "grace";
      span["cache.keys"] = event.keys;
    });
  }

  write(event: CacheWriteEvent): void {
    this.#writes.add(1, this.#callAttrs(event.cache, event.op, event.result));
    const attrs = this.#callAttrs(event.cache, event.op, undefined);
    this.#duration.record(event.durationMs / 1000, attrs);
    this.#span(event.op, event.key, event.startTime, event.durationMs, event.error, attrs, (span) => {
      span["cache.result"] = event.result;
      span["cache.keys"] = event.keys;
    });
  }

  error(event: CacheErrorEvent): void {
    this.#errors.add(1, this.#callAttrs(event.cache, event.operation, undefined));
  }

  #span(
    op: string,
    key: string | undefined,
    startTime: number,
    durationMs: number,
    error: unknown,
    base: Attributes,
    fill: (attributes: Attributes) => void,
  ): void {
    const tracer = this.tracer;
    if (tracer === undefined) return;
    const parent = this.parent();
    if (parent === undefined) return;
    const attributes: Attributes = { ...base };
    fill(attributes);
    if (this.includeKeys && key !== undefined) attributes["cache.key"] = key;
    const span = tracer.startSpan(
      `stratacache.cache.${op}`,
      { kind: SpanKind.INTERNAL, startTime, attributes },
      parent,
    );
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(startTime + durationMs);
  }

  #tally(cache: string, tier: string | undefined, result: string): Tally {
    let tiers = this.#lookups.get(cache);
    if (tiers === undefined) {
      tiers = new Map();
      this.#lookups.set(cache, tiers);
    }
    let results = tiers.get(tier ?? "");
    if (results === undefined) {
      results = new Map();
      tiers.set(tier ?? "", results);
    }
    let tally = results.get(result);
    if (tally === undefined) {
      const attrs: Attributes = { "cache.name": cache, "cache.result": result };
      if (tier !== undefined) attrs["cache.tier"] = tier;
      tally = { attrs, count: 0 };
      results.set(result, tally);
    }
    return tally;
  }

  #callAttrs(cache: string, operation: string, result: string | undefined): Attributes {
    const key = `${cache}\u0000${operation}\u0000${result ?? ""}`;
    let attrs = this.#attrs.get(key);
    if (attrs === undefined) {
      attrs = { "cache.name": cache, "cache.operation": operation };
      if (result !== undefined) attrs["cache.result"] = result;
      this.#attrs.set(key, attrs);
    }
    return attrs;
  }
}

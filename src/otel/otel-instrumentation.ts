import diagnostics_channel from "node:diagnostics_channel";
import type {
  Attributes,
  Context,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  Span,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import { context, metrics, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { CacheErrorEvent, CacheReadEvent, CacheWriteEvent } from "../observability/cache-events.js";
import { STRATACACHE_CHANNELS } from "../observability/event-channels.js";
import type {
  AbsorbedErrorEvent,
  CallEvent,
  FillEvent,
  InvalidationEvent,
  InvalidationLagEvent,
  L1FlushEvent,
  LeaseEvent,
  PushEvent,
  ReadEvent,
  WriteEvent,
} from "../observability/events.js";
import type { ReadBatchEvent } from "../observability/read-batch-events.js";
import type { WriteRetryEvent } from "../observability/write-retry-events.js";
import { CacheInstruments } from "./cache-instruments.js";

/** Options of instrumentStratacache. */
export interface StratacacheInstrumentationOptions {
  /**
   * Where metrics go.
   * @default the global MeterProvider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Where spans go.
   * @default the global TracerProvider (`trace.getTracerProvider()`)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * A started runtime: adds the observable instruments `stratacache.l1.entries` (per document),
   * `stratacache.health` (per dependency and state), `stratacache.capture.depth` and `stratacache.capture.lag` (per
   * document with change capture), read from its `stats()` and `health()` at each collection.
   */
  readonly runtime?: ObservedRuntime;
  /**
   * Spans for reads past L1, write-throughs, and their Redis and Postgres calls. L1 hits never get a span.
   * @default true
   */
  readonly spans?: boolean;
  /**
   * Only make spans under an active parent span (an incoming request's), so background work adds no root traces
   * and an unsampled service pays for no span at all.
   * @default true
   */
  readonly requireParentSpan?: boolean;
  /**
   * Records `db.client.operation.duration` for stratacache's Redis and Postgres calls. Turn it off when the
   * `@opentelemetry/instrumentation-pg` / `-ioredis` instrumentations already emit that metric (it would be counted
   * twice), or to cut the adapter's cost on an L2 hit by about a third (one SDK histogram record fewer). Call spans
   * are unaffected.
   * @default true
   */
  readonly dbMetrics?: boolean;
  /**
   * Puts the document id (a key/value cache's key) on spans as `cache.key`. Ids and keys never go on metrics
   * (unbounded cardinality).
   * @default false
   */
  readonly includeIds?: boolean;
}

/** What the adapter reads from a runtime (a stratacache `Runtime` is one). */
export interface ObservedRuntime {
  /** `runtime.stats()`: the L1 size of each document. */
  stats(): {
    /** Per document name. */
    readonly documents: Readonly<
      Record<
        string,
        {
          /** Undefined without L1. */
          readonly l1:
            | {
                /** Entries held. */
                readonly size: number;
              }
            | undefined;
        }
      >
    >;
    /** Per document with change capture: its database's capture (the same figures for every document of it). */
    readonly changeCapture?: Readonly<
      Record<
        string,
        {
          /** `outbox` or `logical`. */
          readonly mode: string;
          /** Changes waiting at the last look (outbox rows pending). */
          readonly depth: number;
          /** Age in ms of the oldest change not yet applied. */
          readonly lagMs: number;
        }
      >
    >;
  };
  /** `runtime.health()`: each dependency's state. */
  health(): {
    /** Per dependency name. */
    readonly dependencies: Readonly<
      Record<
        string,
        {
          /** `ok`, `degraded` or `down`. */
          readonly state: string;
        }
      >
    >;
  };
}

/** A running instrumentation: `dispose()` unsubscribes from every channel. */
export interface StratacacheInstrumentation {
  /** Unsubscribes; instruments already created stay with their provider. Idempotent. */
  dispose(): void;
}

/** The stable DB semantic conventions' advised buckets for `db.client.operation.duration` (seconds). */
const DB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
/** Read and lag buckets, in seconds: sub-millisecond L2 hits up to multi-second outages. */
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

const DB_SYSTEM = { redis: "redis", postgres: "postgresql" } as const;

/**
 * Bridges stratacache's diagnostics channels to OpenTelemetry metrics and spans. Metric attributes are bounded:
 * document names, tiers, outcomes and dependency names, never keys or ids.
 *
 * Metrics: `stratacache.lookups` (counter; `cache.document`, `cache.tier`, `cache.result`), `stratacache.read.duration`
 * (histogram, s, reads past L1), `db.client.operation.duration` (histogram, s; `db.system.name`, `db.operation.name`,
 * `error.type`), `stratacache.fills` (`cache.result`), `stratacache.fence.rejections` (`cache.operation`: `fill` |
 * `write-through`), `stratacache.write_throughs` (`cache.operation`, `cache.result`), `stratacache.invalidations`
 * (`cache.source`), `stratacache.invalidation.lag` (histogram, s), `stratacache.l1.flushes` (`cache.reason`),
 * `stratacache.errors` (`db.system.name`, `cache.operation`), `stratacache.push.transitions` (`cache.state`); with
 * `runtime`: `stratacache.l1.entries` (up-down), `stratacache.health` (gauge, 1 for the current state), and for
 * documents with change capture `stratacache.capture.depth` (up-down: outbox rows pending) and
 * `stratacache.capture.lag` (gauge, s).
 * `stratacache.write_through.retries` (`cache.result`: `scheduled` | `succeeded` | `gave-up`).
 * Key/value caches (`cache.name`): `stratacache.cache.lookups`, `stratacache.cache.operation.duration`,
 * `stratacache.cache.writes`, `stratacache.cache.errors`, and spans `stratacache.cache.<op>`.
 *
 * Spans (INTERNAL `stratacache.read`, `stratacache.getMany` for a batch past L1, and `stratacache.write`; CLIENT
 * children named after the operation, `GET`, `MGET`, `SELECT`, `EVALSHA`, with the stable DB attributes) are built
 * from the events' own timings.
 *
 * @example
 * ```ts
 * import { instrumentStratacache } from "stratacache/otel";
 * const instrumentation = instrumentStratacache({ runtime }); // global providers
 * // … on shutdown:
 * instrumentation.dispose();
 * ```
 */
export function instrumentStratacache(options: StratacacheInstrumentationOptions = {}): StratacacheInstrumentation {
  return new OtelBridge(options);
}

class OtelBridge implements StratacacheInstrumentation {
  readonly #subscriptions: Array<[string, (message: unknown) => void]> = [];
  readonly #meter: Meter;
  readonly #tracer: Tracer | undefined;
  /**
   * Lookups are tallied here (document → tier → outcome, plain numbers: no attribute hashing or allocation per read)
   * and reported by an observable counter at each collection; an L1 hit costs a few map reads.
   */
  readonly #lookupTallies = new Map<string, Map<string, Map<string, { attrs: Attributes; count: number }>>>();
  /** The L1 hit tally of each document (the same objects as in #lookupTallies), found with one map read. */
  readonly #l1Tallies = new Map<string, { attrs: Attributes; count: number }>();
  /** The document of the last L1 hit and its tally (one of #l1Tallies). */
  #lastL1Document: string | undefined;
  #lastL1Tally: { attrs: Attributes; count: number } | undefined;
  readonly #readDuration: Histogram;
  readonly #dbDuration: Histogram;
  readonly #fills: Counter;
  readonly #fenceRejections: Counter;
  readonly #leaseGrants: Counter;
  readonly #leaseWaits: Counter;
  readonly #writes: Counter;
  readonly #invalidations: Counter;
  readonly #lag: Histogram;
  readonly #flushes: Counter;
  readonly #errors: Counter;
  readonly #push: Counter;
  /** Spans of reads in flight, by their (shared) event object. */
  readonly #readSpans = new WeakMap<object, Span>();
  /** Call attributes per dependency and operation (successful calls), built once (no key string per call). */
  readonly #callAttrs = { redis: new Map<string, Attributes>(), postgres: new Map<string, Attributes>() };
  /** Span attributes of successful calls, per call attributes and document (see #callSpanAttrs). */
  readonly #spanAttrs = new Map<Attributes, Map<string, Attributes>>();
  /** `{ "cache.document": name }` per document: read span attributes when ids are not included. */
  readonly #documentAttrs = new Map<string, Attributes>();
  #disposed = false;

  constructor(private readonly options: StratacacheInstrumentationOptions) {
    const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
    this.#meter = meterProvider.getMeter("stratacache");
    const meter = this.#meter;
    if (options.spans !== false) {
      this.#tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer("stratacache");
    }
    const lookups = meter.createObservableCounter("stratacache.lookups", {
      description: "Reads, by the tier that answered.",
    });
    lookups.addCallback((result) => {
      for (const tiers of this.#lookupTallies.values()) {
        for (const outcomes of tiers.values())
          for (const tally of outcomes.values()) result.observe(tally.count, tally.attrs);
      }
    });
    this.#readDuration = meter.createHistogram("stratacache.read.duration", {
      unit: "s",
      description: "Reads past L1, from the L1 miss to the answer.",
      advice: { explicitBucketBoundaries: FAST_BUCKETS },
    });
    this.#dbDuration = meter.createHistogram("db.client.operation.duration", {
      unit: "s",
      description: "Duration of database client operations.",
      advice: { explicitBucketBoundaries: DB_BUCKETS },
    });
    this.#fills = meter.createCounter("stratacache.fills", { description: "L2 fills after a Postgres read." });
    this.#fenceRejections = meter.createCounter("stratacache.fence.rejections", {
      description: "Writes the version fence refused (a newer version was in L2).",
    });
    this.#leaseGrants = meter.createCounter("stratacache.lease.grants", {
      description: "Fill leases this process took (each one loader run or Postgres read across the fleet).",
    });
    this.#leaseWaits = meter.createCounter("stratacache.lease.waits", {
      description: "Waits for another process's fill that ended, by outcome (filled, granted, timeout).",
    });
    this.#writes = meter.createCounter("stratacache.write_throughs", { description: "Post-commit L2 writes." });
    this.#invalidations = meter.createCounter("stratacache.invalidations", { description: "Ids dropped from L1." });
    this.#lag = meter.createHistogram("stratacache.invalidation.lag", {
      unit: "s",
      description: "A writer's L2 write to its push invalidation here (wall clocks of two hosts: skew included).",
      advice: { explicitBucketBoundaries: FAST_BUCKETS },
    });
    this.#flushes = meter.createCounter("stratacache.l1.flushes", { description: "Whole-L1 flushes." });
    this.#errors = meter.createCounter("stratacache.errors", { description: "Failures the cache absorbed." });
    this.#push = meter.createCounter("stratacache.push.transitions", { description: "Push channel state changes." });
    const runtime = options.runtime;
    if (runtime !== undefined) this.#observeRuntime(runtime);

    const C = STRATACACHE_CHANNELS;
    this.#on(C.readStart, (event: ReadEvent) => this.#readStart(event));
    this.#on(C.read, (event: ReadEvent) => this.#read(event));
    this.#on(C.call, (event: CallEvent) => this.#call(event));
    this.#on(C.fill, (event: FillEvent) => {
      this.#fills.add(1, { "cache.document": event.document, "cache.result": event.result });
      if (event.result === "rejected") {
        this.#fenceRejections.add(1, { "cache.document": event.document, "cache.operation": "fill" });
      }
    });
    this.#on(C.lease, (event: LeaseEvent) => {
      const attrs: Attributes = { "cache.document": event.document, "cache.source": event.source };
      if (event.action === "granted") this.#leaseGrants.add(1, attrs);
      else this.#leaseWaits.add(1, { ...attrs, "cache.result": event.outcome ?? "timeout" });
    });
    this.#on(C.write, (event: WriteEvent) => this.#write(event));
    this.#on(C.invalidate, (event: InvalidationEvent) => {
      this.#invalidations.add(1, { "cache.document": event.document, "cache.source": event.source });
    });
    this.#on(C.invalidationLag, (event: InvalidationLagEvent) => {
      this.#lag.record(event.lagMs / 1000, { "cache.document": event.document });
    });
    this.#on(C.l1Flush, (event: L1FlushEvent) => {
      this.#flushes.add(1, { "cache.document": event.document, "cache.reason": event.reason });
    });
    this.#on(C.error, (event: AbsorbedErrorEvent) => {
      this.#errors.add(1, {
        "cache.document": event.document,
        "db.system.name": DB_SYSTEM[event.dependency],
        "cache.operation": event.operation,
      });
    });
    this.#on(C.push, (event: PushEvent) => {
      this.#push.add(1, { "cache.channel": event.channel, "cache.state": event.state });
    });
    // Key/value cache API (cache-instruments.ts).
    const caches = new CacheInstruments(meter, this.#tracer, () => this.#parent(), options.includeIds === true);
    this.#on(C.cacheRead, (event: CacheReadEvent) => caches.read(event));
    this.#on(C.cacheWrite, (event: CacheWriteEvent) => caches.write(event));
    this.#on(C.cacheError, (event: CacheErrorEvent) => caches.error(event));
    // getMany batches past L1: a span each, the parent of the batch's Redis and Postgres call spans.
    this.#on(C.readBatchStart, (event: ReadBatchEvent) => this.#batchStart(event));
    this.#on(C.readBatch, (event: ReadBatchEvent) => this.#batchEnd(event));
    // Write-through retries.
    const retries = meter.createCounter("stratacache.write_through.retries", {
      description: "Failed write-throughs in the retrier: retries scheduled, landed, given up.",
    });
    const retryAttrs = new Map<string, Attributes>();
    this.#on(C.writeRetry, (event: WriteRetryEvent) => {
      const key = `${event.document}\u0000${event.state}`;
      let attrs = retryAttrs.get(key);
      if (attrs === undefined) {
        attrs = { "cache.document": event.document, "cache.result": event.state };
        retryAttrs.set(key, attrs);
      }
      retries.add(1, attrs);
    });
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const [name, fn] of this.#subscriptions) diagnostics_channel.unsubscribe(name, fn);
    this.#subscriptions.length = 0;
  }

  #on<T>(name: string, fn: (event: T) => void): void {
    // Subscribed as is (no wrapper: one call fewer per event; the channel's payload type is `T` by contract).
    const handler = fn as (message: unknown) => void;
    diagnostics_channel.subscribe(name, handler);
    this.#subscriptions.push([name, handler]);
  }

  #parent(): Context | undefined {
    const active = context.active();
    if (this.options.requireParentSpan !== false && trace.getSpan(active) === undefined) return undefined;
    return active;
  }

  #readStart(event: ReadEvent): void {
    const tracer = this.#tracer;
    if (tracer === undefined) return;
    const parent = this.#parent();
    if (parent === undefined) return;
    let attributes: Attributes | undefined;
    if (this.options.includeIds === true) attributes = { "cache.document": event.document, "cache.key": event.id };
    else {
      attributes = this.#documentAttrs.get(event.document);
      if (attributes === undefined) {
        attributes = { "cache.document": event.document };
        this.#documentAttrs.set(event.document, attributes);
      }
    }
    const span = tracer.startSpan(
      "stratacache.read",
      { kind: SpanKind.INTERNAL, startTime: event.startTime, attributes },
      parent,
    );
    this.#readSpans.set(event, span);
  }

  #read(event: ReadEvent): void {
    if (event.tier === "l1") {
      // The L1 hit path: an increment, after one string comparison while hits stay on one document (the usual burst),
      // else one map read (L1 hits are never timed).
      if (event.document === this.#lastL1Document) {
        this.#lastL1Tally!.count++;
        return;
      }
      let hit = this.#l1Tallies.get(event.document);
      if (hit === undefined) {
        hit = this.#tally(event);
        this.#l1Tallies.set(event.document, hit);
      }
      this.#lastL1Document = event.document;
      this.#lastL1Tally = hit;
      hit.count++;
      return;
    }
    const tally = this.#tally(event);
    tally.count++;
    const attrs = tally.attrs;
    if (event.startTime === 0) return; // L1 hits and coalesced reads: counted, never timed
    this.#readDuration.record(event.durationMs / 1000, attrs);
    // Kept in the (weak) map after it ends: a miss's fill lands after its read answered, and its call span still
    // belongs under the read.
    const span = this.#readSpans.get(event);
    if (span === undefined) return;
    if (event.tier !== undefined) span.setAttribute("cache.tier", event.tier);
    span.setAttribute("cache.result", event.outcome ?? "error");
    span.setAttribute("cache.hit", event.outcome === "hit" || event.outcome === "grace");
    if (event.outcome === "error") span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(event.startTime + event.durationMs);
  }

  #batchStart(event: ReadBatchEvent): void {
    const tracer = this.#tracer;
    if (tracer === undefined) return;
    const parent = this.#parent();
    if (parent === undefined) return;
    const attributes: Attributes = { "cache.document": event.document, "cache.keys": event.ids };
    const span = tracer.startSpan(
      "stratacache.getMany",
      { kind: SpanKind.INTERNAL, startTime: event.startTime, attributes },
      parent,
    );
    this.#readSpans.set(event, span);
  }

  #batchEnd(event: ReadBatchEvent): void {
    const span = this.#readSpans.get(event); // kept after it ends, for the batch's fill (see #read)
    if (span === undefined) return;
    span.setAttribute("cache.fetched", event.fetched ?? 0);
    if (event.failed === true) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(event.startTime + event.durationMs);
  }

  #tally(event: ReadEvent): { attrs: Attributes; count: number } {
    let tiers = this.#lookupTallies.get(event.document);
    if (tiers === undefined) {
      tiers = new Map();
      this.#lookupTallies.set(event.document, tiers);
    }
    const tier = event.tier ?? "";
    let outcomes = tiers.get(tier);
    if (outcomes === undefined) {
      outcomes = new Map();
      tiers.set(tier, outcomes);
    }
    const outcome = event.outcome ?? "error";
    let tally = outcomes.get(outcome);
    if (tally === undefined) {
      const attrs: Attributes = { "cache.document": event.document, "cache.result": outcome };
      if (event.tier !== undefined) attrs["cache.tier"] = event.tier;
      tally = { attrs, count: 0 };
      outcomes.set(outcome, tally);
    }
    return tally;
  }

  #call(event: CallEvent): void {
    let attrs: Attributes;
    if (event.error === undefined) {
      const byOperation = this.#callAttrs[event.dependency];
      let cached = byOperation.get(event.operation);
      if (cached === undefined) {
        cached = { "db.system.name": DB_SYSTEM[event.dependency], "db.operation.name": event.operation };
        byOperation.set(event.operation, cached);
      }
      attrs = cached;
    } else {
      attrs = {
        "db.system.name": DB_SYSTEM[event.dependency],
        "db.operation.name": event.operation,
        "error.type": errorType(event.error),
      };
    }
    if (this.options.dbMetrics !== false) this.#dbDuration.record(event.durationMs / 1000, attrs);
    const tracer = this.#tracer;
    if (tracer === undefined) return;
    const readSpan =
      event.read !== undefined
        ? this.#readSpans.get(event.read)
        : event.batch !== undefined
          ? this.#readSpans.get(event.batch)
          : undefined;
    const parent = readSpan === undefined ? this.#parent() : trace.setSpan(context.active(), readSpan);
    if (parent === undefined) return;
    const span = tracer.startSpan(
      event.operation,
      { kind: SpanKind.CLIENT, startTime: event.startTime, attributes: this.#callSpanAttrs(attrs, event) },
      parent,
    );
    if (event.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorType(event.error) });
    span.end(event.startTime + event.durationMs);
  }

  /** A call span's attributes: the metric's plus the document, built once per (call attributes, document). */
  #callSpanAttrs(attrs: Attributes, event: CallEvent): Attributes {
    if (event.error !== undefined) return { ...attrs, "cache.document": event.document };
    let byDocument = this.#spanAttrs.get(attrs);
    if (byDocument === undefined) {
      byDocument = new Map();
      this.#spanAttrs.set(attrs, byDocument);
    }
    let out = byDocument.get(event.document);
    if (out === undefined) {
      out = { ...attrs, "cache.document": event.document };
      byDocument.set(event.document, out);
    }
    return out;
  }

  #write(event: WriteEvent): void {
    const attrs = { "cache.document": event.document, "cache.operation": event.kind, "cache.result": event.result };
    this.#writes.add(1, attrs);
    if (event.result === "rejected") {
      this.#fenceRejections.add(1, { "cache.document": event.document, "cache.operation": "write-through" });
    }
    const tracer = this.#tracer;
    if (tracer === undefined) return;
    const parent = this.#parent();
    if (parent === undefined) return;
    const attributes: Attributes = { ...attrs };
    if (this.options.includeIds === true) attributes["cache.key"] = event.id;
    const span = tracer.startSpan(
      "stratacache.write",
      { kind: SpanKind.INTERNAL, startTime: event.startTime, attributes },
      parent,
    );
    if (event.result === "failed") span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(event.startTime + event.durationMs);
  }

  #observeRuntime(runtime: ObservedRuntime): void {
    const entries = this.#meter.createObservableUpDownCounter("stratacache.l1.entries", {
      description: "Entries in each document's L1.",
    });
    entries.addCallback((result) => {
      if (this.#disposed) return;
      for (const [document, stats] of Object.entries(runtime.stats().documents)) {
        if (stats.l1 !== undefined) result.observe(stats.l1.size, { "cache.document": document });
      }
    });
    // Change capture (stats().changeCapture): the outbox backlog and the relay's lag, per captured document.
    const depth = this.#meter.createObservableUpDownCounter("stratacache.capture.depth", {
      description: "Captured changes waiting to be applied (outbox rows pending; logical: 0 when caught up).",
    });
    const lag = this.#meter.createObservableGauge("stratacache.capture.lag", {
      unit: "s",
      description: "Age of the oldest captured change not yet applied, at the relay's last look.",
    });
    const captureAttrs = new Map<string, Attributes>();
    const captured = (observe: (stats: { depth: number; lagMs: number }, attrs: Attributes) => void) => {
      if (this.#disposed) return;
      for (const [document, stats] of Object.entries(runtime.stats().changeCapture ?? {})) {
        const key = `${document}\u0000${stats.mode}`;
        let attrs = captureAttrs.get(key);
        if (attrs === undefined) {
          attrs = { "cache.document": document, "cache.capture_mode": stats.mode };
          captureAttrs.set(key, attrs);
        }
        observe(stats, attrs);
      }
    };
    depth.addCallback((result) => captured((stats, attrs) => result.observe(stats.depth, attrs)));
    lag.addCallback((result) => captured((stats, attrs) => result.observe(stats.lagMs / 1000, attrs)));
    const health = this.#meter.createObservableGauge("stratacache.health", {
      description: "1 for each dependency's current state (ok, degraded, down), 0 for the others.",
    });
    health.addCallback((result) => {
      if (this.#disposed) return;
      for (const [dependency, entry] of Object.entries(runtime.health().dependencies)) {
        for (const state of ["ok", "degraded", "down"] as const) {
          result.observe(entry.state === state ? 1 : 0, { "cache.dependency": dependency, "cache.state": state });
        }
      }
    });
  }
}

/** `error.type`: the error's class or code, never its message (bounded). */
function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : error.name;
  }
  return "_OTHER";
}

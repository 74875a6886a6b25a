/**
 * Observability: two replicas (A writes, B reads) with the OpenTelemetry adapter (`stratacache/otel`) on B, wired to
 * the OTel Prometheus exporter; the recipe scrapes B's /metrics with a plain HTTP GET, prints the stratacache lines
 * of the exposition text (hits per tier, fills, invalidations by source, the push lag histogram, Redis and Postgres
 * call durations), then `runtime.health()` and the coherence figures of `stats()`. Run with `just run` (or
 * `npx tsx examples/recipes/observability/app.ts` from the repository root). Exits with code 2, saying why, when
 * no Redis can be found or started.
 */
import { createServer, type Server } from "node:http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { z } from "zod";
import type { Runtime } from "../../../src/index.js";
import { createRuntime, defineDocument, redisModule, silentLogger } from "../../../src/index.js";
import { instrumentStratacache } from "../../../src/otel/index.js";
import {
  CannotRunError,
  findPostgres,
  findRedis,
  type PostgresServer,
  type RedisServer,
} from "../push-invalidation/servers.js";
import { runTable } from "../shared/engines.js";

const products = defineDocument({
  name: "observed_products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m", l1: { ttl: "1m", capacity: 1_000 } },
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`observability recipe: ${message}`);
}

const namespace = `recipes:observability:${process.pid}:${Date.now().toString(36)}`;
let redis: RedisServer | undefined;
let postgres: PostgresServer | undefined;
let server: Server | undefined;
const replicas: Runtime[] = [];
try {
  redis = await findRedis();
  postgres = await findPostgres();
  console.log(`engines: ${postgres.description}; ${redis.description}`);
  await demo(redis, postgres);
} catch (error) {
  if (!(error instanceof CannotRunError)) throw error;
  console.error(`cannot run the observability recipe: ${error.message}`);
  process.exitCode = 2;
} finally {
  server?.close();
  for (const runtime of replicas) await runtime.stop();
  await postgres?.close();
  await redis?.cleanUp([namespace, `${namespace}-sessions`]);
  await redis?.stop();
}

async function demo(redis: RedisServer, postgres: PostgresServer): Promise<void> {
  const replica = async () => {
    const runtime = createRuntime({
      modules: [
        postgres.module({ observed_products: { table: runTable("recipe_observability_products") } }),
        redisModule({
          url: redis.url,
          caches: {
            observed_products: { namespace, invalidationPush: true },
            observed_sessions: { namespace: `${namespace}-sessions` }, // the cache API: stratacache.cache.* metrics
          },
        }),
      ],
      logger: silentLogger,
    });
    replicas.push(runtime);
    await runtime.start();
    return runtime;
  };
  const a = await replica();
  const b = await replica();

  // The exporter serves the exposition text through our own HTTP server (any free port), not a fixed 9464.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const instrumentation = instrumentStratacache({ meterProvider, runtime: b, spans: false });
  server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  const writer = a.context().document.command(products);
  const reader = b.context().document.query(products);
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await writer.create({ name: `product ${i}`, price: i })).id);
  // Reads on B: misses and fills, then L2 and L1 hits.
  for (let round = 0; round < 5; round++) for (const id of ids) await reader.get(id);
  // Writes on A: B hears them by push; its next reads are L2 hits that measure the push lag.
  for (const id of ids.slice(0, 10)) {
    const doc = await reader.get(id);
    await writer.update(id, doc.rev, { price: doc.price + 1 });
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const id of ids) await reader.get(id);
  // The cache API on B: each key a loader miss, then a hit.
  const sessions = b.cache("observed_sessions");
  const keys = Array.from({ length: 5 }, (_, i) => `session-${i}-${process.pid}`);
  for (let round = 0; round < 2; round++) for (const key of keys) await sessions.getOrSet(key, () => ({ user: key }));

  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  check(response.ok, `GET /metrics answered ${response.status}`);
  const text = await response.text();
  const wanted =
    /^(stratacache_lookups_total|stratacache_cache_lookups_total|stratacache_cache_writes_total|stratacache_fills_total|stratacache_invalidations_total|stratacache_invalidation_lag_(count|sum)|stratacache_read_duration_count|db_client_operation_duration_count|stratacache_l1_entries|stratacache_health\{.*\} 1$)/;
  console.log(`GET http://127.0.0.1:${port}/metrics (stratacache lines):`);
  for (const line of text.split("\n")) {
    if (wanted.test(line)) console.log(`  ${line.replace(/,?otel_scope_name="stratacache"/, "")}`);
  }
  check(/stratacache_lookups_total\{[^}]*cache_tier="l1"[^}]*\} \d+/.test(text), "no L1 hits in the exposition");
  check(/stratacache_invalidations_total\{[^}]*cache_source="push"/.test(text), "no push invalidations exported");
  check(/stratacache_invalidation_lag_count\{[^}]*\} [1-9]/.test(text), "no push lag in the exposition");
  check(!ids.some((id) => text.includes(id)), "a document id leaked into a metric label");
  check(/stratacache_cache_lookups_total\{[^}]*cache_name="observed_sessions"/.test(text), "no cache API lookups");
  check(!keys.some((key) => text.includes(key)), "a cache key leaked into a metric label");

  const health = b.health();
  console.log(`health: ready=${health.ready}`);
  for (const [name, dependency] of Object.entries(health.dependencies)) {
    console.log(
      `  ${name} (${dependency.kind}): ${dependency.state} since ${new Date(dependency.since).toISOString()} — ${dependency.reason}`,
    );
  }
  check(health.ready, "B is not ready");
  const coherence = b.stats().documents.observed_products!.coherence;
  const lag = coherence.invalidationLag;
  console.log(
    `coherence on B: push lag ${lag.samples} samples, mean ${lag.meanMs?.toFixed(1)} ms, max ${lag.maxMs.toFixed(1)} ms; stale serves ${coherence.staleServes.grace}; fence rejections ${coherence.fenceRejections.fills + coherence.fenceRejections.writeThroughs}`,
  );
  check(lag.samples > 0, "no push lag sample");
  instrumentation.dispose();
  await meterProvider.shutdown();
}

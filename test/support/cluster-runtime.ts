/**
 * Runtimes on a Redis Cluster (test/support/redis-cluster.ts) or a Sentinel group (redis-sentinel.ts): each with its
 * own ioredis client passed to redisModule, L1 + push on, fast push timing; and the staleness load the failover tests
 * share (a writer on one runtime, readers on another, every read checked against what had committed before it began).
 */
import { randomUUID } from "node:crypto";
import { Cluster, type Redis } from "ioredis";
import type { DocumentSpec, Runtime } from "../../src/index.js";
import { createRuntime, postgresModule, redisModule, silentLogger } from "../../src/index.js";
import { FAST_TIMING, pushProducts } from "./push-runtime.js";
import { sleep } from "./strata.js";

/** A Cluster client as an application would configure one for stratacache (reads fail fast, masters only). */
export function clusterClient(seeds: ReadonlyArray<{ host: string; port: number }>): Cluster {
  const cluster = new Cluster(
    seeds.map((s) => ({ ...s })),
    { scaleReads: "master", enableOfflineQueue: true, redisOptions: { connectTimeout: 1_000 } },
  );
  cluster.on("error", () => {});
  cluster.on("node error", () => {});
  return cluster;
}

/** A runtime routing `products` through `client` (or its own Sentinel connection) with push on. */
export async function startClientRuntime(options: {
  readonly databaseUrl: string;
  readonly namespace: string;
  readonly client?: Cluster | Redis;
  readonly sentinels?: ReadonlyArray<{ host: string; port: number }>;
  readonly name?: string;
  readonly timeoutMs?: number;
  readonly push?: boolean;
}): Promise<Runtime> {
  const caches = { products: { namespace: `${options.namespace}:products`, invalidationPush: options.push ?? true } };
  const source =
    options.client !== undefined
      ? { client: options.client }
      : { sentinels: options.sentinels ?? [], name: options.name ?? "" };
  const runtime = createRuntime({
    modules: [
      postgresModule({ url: options.databaseUrl, documents: { products: { table: "products" } } }),
      redisModule({ ...source, caches, invalidation: FAST_TIMING, timeoutMs: options.timeoutMs ?? 500 }),
    ],
    logger: silentLogger,
  });
  await runtime.start();
  return runtime;
}

export const newNamespace = (prefix: string) => `${prefix}:${randomUUID().slice(0, 8)}`;

export interface StalenessResult {
  readonly reads: number;
  readonly writes: number;
  readonly failedReads: string[];
  readonly failedWrites: number;
  /** Reads that returned a rev older than one committed more than `windowMs` before the read began. */
  readonly violations: string[];
}

/**
 * A writer on `writer` updating random ids, readers on `reader`, for `durationMs` (or until `until` resolves and
 * `durationMs` passed). A read is stale when an update resolved more than `windowMs` before it started and the read
 * returned an older rev. A write that fails (Postgres is not under test here; the write-through is retried by the
 * library) is counted, not a failure of the run.
 */
export async function stalenessLoad(options: {
  readonly writer: Runtime;
  readonly reader: Runtime;
  readonly ids: ReadonlyArray<string>;
  readonly spec?: DocumentSpec;
  readonly durationMs: number;
  readonly windowMs: number;
  readonly readers?: number;
  readonly seed?: number;
  /** Runs alongside the load (a failover, a reshard); the load lasts at least until it resolves. */
  readonly during?: () => Promise<void>;
  /** While true, the writer pauses (e.g. around a SIGKILL, whose unreplicated writes Redis itself would lose). */
  readonly paused?: () => boolean;
}): Promise<StalenessResult> {
  const spec = options.spec ?? pushProducts;
  const docs = options.writer.context().document.command(spec);
  const query = options.reader.context().document.query(spec);
  const revs = new Map<string, number>();
  const committed = new Map<string, Array<[number, number]>>();
  for (const id of options.ids) {
    const rev = (await options.writer.context().document.query(spec).get(id)).rev;
    revs.set(id, rev);
    committed.set(id, [[0, rev]]);
  }
  let seed = options.seed ?? 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = () => options.ids[Math.floor(random() * options.ids.length)] as string;
  let done = false;
  const result = { reads: 0, writes: 0, failedReads: [] as string[], failedWrites: 0, violations: [] as string[] };
  const writer = async () => {
    while (!done) {
      if (options.paused?.()) {
        await sleep(2);
        continue;
      }
      const id = pick();
      try {
        const updated = await docs.update(id, revs.get(id) as number, { price: Math.floor(random() * 1000) });
        revs.set(id, updated.rev);
        committed.get(id)?.push([performance.now(), updated.rev]);
        result.writes++;
      } catch {
        result.failedWrites++;
        revs.set(id, (await options.writer.context().document.query(spec).get(id)).rev);
      }
      await sleep(Math.floor(random() * 6));
    }
  };
  const reader = async () => {
    while (!done) {
      const id = pick();
      const startedAt = performance.now();
      try {
        const doc = await query.get(id);
        result.reads++;
        const mustSee = (committed.get(id) ?? []).filter(([at]) => at + options.windowMs < startedAt).at(-1)?.[1] ?? 0;
        if (doc.rev < mustSee) {
          result.violations.push(`${id}: read rev ${doc.rev}, rev ${mustSee} resolved > ${options.windowMs} ms before`);
        }
      } catch (error) {
        result.failedReads.push(error instanceof Error ? error.message : String(error));
      }
      if (random() < 0.2) await sleep(1);
    }
  };
  const minimum = sleep(options.durationMs);
  const work = Promise.all([writer(), ...Array.from({ length: options.readers ?? 3 }, reader)]);
  await Promise.all([minimum, options.during?.()]);
  done = true;
  await work;
  return result;
}

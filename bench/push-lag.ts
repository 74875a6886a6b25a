/**
 * Push invalidation between two processes (goal: p99 lag < 5 ms on loopback).
 *
 * 1. Lag: process A updates documents one after another; process B timestamps each invalidation as its router
 *    drops the entry. Both stamp with `performance.timeOrigin + performance.now()` (one wall clock, sub-ms precision),
 *    and the k-th invalidation of a key in B is matched with the k-th write of that key in A. Lag is measured from
 *    the moment A's `update()` resolved (it can be negative: Redis pushes as it executes the write, before A hears
 *    back) and, for context, from the moment A called `update()` (which includes the Postgres commit).
 * 2. Read-heavy mix: B reads random documents (L1 ttl 2 s) at 10,000 reads/s while A writes 1% of the operations
 *    (about 101 writes/s, which one sequential Postgres writer sustains), with push on and
 *    with push off. A read is stale when it returned a rev older than the newest write A had resolved when the read
 *    started; "beyond 50 ms" counts those that started more than 50 ms after that write resolved.
 *
 * 3. `--cluster`: the lag phase again on a 3-master + 3-replica Redis Cluster (spawned on loopback with redis-server,
 *    or REDIS_CLUSTER_NODES="host:port,…"), with a Cluster client and one push subscriber per node; L2-hit throughput
 *    at 64 concurrent reads (L1 off) on the cluster vs the single server, side by side; and getMany(100) of ids
 *    spread over the slots vs raw per-slot MGETs pipelined per node (+ JSON.parse), side by side.
 *
 *   npm run bench -- push-lag [--quick]
 *   npm run bench -- push-lag --cluster [--quick]
 *
 * Uses DATABASE_URL / REDIS_URL, else the local servers.
 */

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Cluster, Redis } from "ioredis";
import { z } from "zod";
import type { Runtime } from "../src/index.js";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../src/index.js";
import { InvalidationRouter } from "../src/invalidation/invalidation-router.js";
import { reportGoals } from "./support/goals.js";
import { removeBenchData } from "./support/leftovers.js";
import { fmt, latencyUs, median, percentile, printTable, throughput, writeResults } from "./support/measure.js";
import { writeBarChart } from "./support/svg-bar-chart.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TABLE = "bench_push_lag";
const WINDOW_MS = 50;
/** Reads per second on B in the mix phase; A writes one per 99 of them (1%). */
const READ_RATE = 10_000;

const products = defineDocument({
  name: "products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m", l1: { ttl: "2s", capacity: 1_000 } },
});

/** One shared wall clock, in ms, for stamps compared across processes. */
const stamp = () => performance.timeOrigin + performance.now();

interface PeerConfig {
  readonly namespace: string;
  readonly push: boolean;
  /** Cluster seed nodes: the peer uses a Cluster client instead of REDIS_URL. */
  readonly cluster?: ReadonlyArray<{ host: string; port: number }>;
}

/** The Cluster client the benchmark gives stratacache (masters only, the default). */
function clusterClient(seeds: ReadonlyArray<{ host: string; port: number }>): Cluster {
  const cluster = new Cluster(
    seeds.map((s) => ({ ...s })),
    { scaleReads: "master" },
  );
  cluster.on("error", () => {});
  return cluster;
}

// ───────────────────────────── child: one runtime, driven over stdin/stdout ─────────────────────────────

async function runPeer(config: PeerConfig): Promise<void> {
  /** B's view: every key its router was handed, with when (after the L1 entry was dropped). */
  const arrivals: Array<[string, number]> = [];
  const original = InvalidationRouter.prototype.invalidate;
  InvalidationRouter.prototype.invalidate = function (this: InvalidationRouter, keys) {
    original.call(this, keys);
    const at = stamp();
    if (keys !== null) for (const key of keys) arrivals.push([key.slice(key.lastIndexOf("{") + 1, -1), at]);
  };
  const runtime: Runtime = createRuntime({
    modules: [
      postgresModule({ url: DATABASE_URL, documents: { products: { table: TABLE } } }),
      redisModule({
        ...(config.cluster ? { client: clusterClient(config.cluster) } : { url: REDIS_URL }),
        caches: { products: { namespace: config.namespace, invalidationPush: config.push } },
      }),
    ],
    logger: silentLogger,
  });
  await runtime.start();
  if (config.cluster) {
    // Every node subscribed before the first write: the client learns the replicas over a refresh or two.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const push = runtime.stats().caches.products?.push;
      if (push?.state === "armed" && Object.keys(push.nodes ?? {}).length >= 6) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const ctx = runtime.context();
  const docs = ctx.document.command(products);
  const query = ctx.document.query(products);
  const revs = new Map<string, number>();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const ops: Record<string, (args: Record<string, number | string[]>) => Promise<unknown>> = {
    async create({ count }) {
      const ids: string[] = [];
      for (let i = 0; i < (count as number); i++) {
        const doc = await docs.create({ name: `p${i}`, price: i });
        revs.set(doc.id, doc.rev);
        ids.push(doc.id);
      }
      return ids;
    },
    async adopt({ ids }) {
      for (const id of ids as string[]) revs.set(id, (await query.get(id)).rev);
      return null;
    },
    /** Sequential updates cycling through the ids: [id, rev, startedAt, resolvedAt] per write. */
    async writeSeq({ ids, count }) {
      const list = ids as string[];
      const out: Array<[string, number, number, number]> = [];
      for (let i = 0; i < (count as number); i++) {
        const id = list[i % list.length] as string;
        const startedAt = stamp();
        const doc = await docs.update(id, revs.get(id) as number, { price: i });
        out.push([id, doc.rev, startedAt, stamp()]);
        revs.set(id, doc.rev);
      }
      return out;
    },
    /** Paced random updates for `durationMs`: [id, rev, resolvedAt] per write. */
    async writeLoop({ ids, durationMs, perSecond }) {
      const list = ids as string[];
      const out: Array<[string, number, number]> = [];
      const start = performance.now();
      for (let i = 0; performance.now() - start < (durationMs as number); i++) {
        const id = list[Math.floor(Math.random() * list.length)] as string;
        const doc = await docs.update(id, revs.get(id) as number, { price: i });
        revs.set(id, doc.rev);
        out.push([id, doc.rev, stamp()]);
        const due = start + ((i + 1) * 1_000) / (perSecond as number);
        await sleep(Math.max(0, due - performance.now()));
      }
      return out;
    },
    /**
     * Random reads for `durationMs` with `concurrency` loops, paced to `perSecond` in all (0: as fast as possible):
     * [id, rev, startedAt] per read, and L1 counters.
     */
    async readLoop({ ids, durationMs, concurrency, record, perSecond }) {
      const list = ids as string[];
      const out: Array<[string, number, number]> = [];
      const before = query.stats().l1;
      const start = performance.now();
      const end = start + (durationMs as number);
      const loops = concurrency as number;
      const interval = (perSecond as number) > 0 ? (1_000 * loops) / (perSecond as number) : 0;
      let reads = 0;
      await Promise.all(
        Array.from({ length: loops }, async (_, loop) => {
          for (let n = 0; performance.now() < end; n++) {
            const id = list[Math.floor(Math.random() * list.length)] as string;
            const startedAt = stamp();
            const doc = await query.get(id);
            reads++;
            if (record) out.push([id, doc.rev, startedAt]);
            // Behind schedule (timers fire at ~1 ms granularity), catch up without sleeping.
            const wait = interval > 0 ? start + (loop * interval) / loops + (n + 1) * interval - performance.now() : 0;
            if (wait > 0) await sleep(wait);
            else if (reads % 64 === 0) {
              // Yield now and then so invalidations are handled while the loop runs hot on L1 hits.
              await new Promise((resolve) => setImmediate(resolve));
            }
          }
        }),
      );
      const after = query.stats().l1;
      const hits = (after?.hits ?? 0) - (before?.hits ?? 0);
      const misses = (after?.misses ?? 0) - (before?.misses ?? 0);
      return { reads, hits, misses, log: out };
    },
    async arrivals() {
      return arrivals.splice(0);
    },
    async stats() {
      return runtime.stats().caches.products?.push;
    },
    async stop() {
      await runtime.stop();
      setImmediate(() => process.exit(0));
      return null;
    },
  };
  const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    const { seq, op, args } = JSON.parse(line) as { seq: number; op: string; args: Record<string, number | string[]> };
    const run = ops[op];
    if (run === undefined) return send({ seq, error: `unknown op ${op}` });
    run(args).then(
      (value) => send({ seq, value }),
      (error: unknown) => send({ seq, error: String(error) }),
    );
  });
  send({ ready: true });
}

// ───────────────────────────── parent ─────────────────────────────

interface Peer {
  call<T>(op: string, args?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

async function spawnPeer(config: PeerConfig): Promise<Peer> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: { ...process.env, PUSH_LAG_PEER: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const waiting = new Map<number, (message: { value?: unknown; error?: string }) => void>();
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once("exit", (code) => reject(new Error(`peer exited (${code})`)));
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const message = JSON.parse(line) as { ready?: boolean; seq?: number; value?: unknown; error?: string };
    if (message.ready) return ready();
    waiting.get(message.seq as number)?.(message);
    waiting.delete(message.seq as number);
  });
  await started;
  let seq = 0;
  const call = <T>(op: string, args: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, (m) => (m.error === undefined ? resolve(m.value as T) : reject(new Error(m.error))));
      child.stdin.write(`${JSON.stringify({ seq: id, op, args })}\n`);
    });
  return {
    call,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await call("stop").catch(() => {});
      await exited;
    },
  };
}

async function lagPhase(writes: number, cluster?: ReadonlyArray<{ host: string; port: number }>) {
  const namespace = `bench:push-lag:${process.pid}:lag${cluster ? "-cluster" : ""}`;
  const a = await spawnPeer({ namespace, push: true, ...(cluster ? { cluster } : {}) });
  const b = await spawnPeer({ namespace, push: true, ...(cluster ? { cluster } : {}) });
  try {
    const ids = await a.call<string[]>("create", { count: 100 });
    await b.call("arrivals");
    const log = await a.call<Array<[string, number, number, number]>>("writeSeq", { ids, count: writes });
    // Let the last invalidations land.
    let arrivals: Array<[string, number]> = [];
    for (let i = 0; i < 50 && arrivals.length < writes; i++) {
      arrivals = arrivals.concat(await b.call<Array<[string, number]>>("arrivals"));
      if (arrivals.length < writes) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const byId = new Map<string, number[]>();
    for (const [id, at] of arrivals) {
      const list = byId.get(id) ?? [];
      list.push(at);
      byId.set(id, list);
    }
    // Each write is matched with the first arrival of its key at or after the write began (and after the arrival
    // matched to the previous write of that key): on a Cluster the master and its replica both report it, and the
    // replica's copy is skipped that way.
    const next = new Map<string, number>();
    const fromResolved: number[] = [];
    const fromStart: number[] = [];
    let missing = 0;
    for (const [id, , startedAt, resolvedAt] of log) {
      const list = byId.get(id) ?? [];
      let k = next.get(id) ?? 0;
      while (k < list.length && (list[k] as number) < startedAt) k++;
      const at = list[k];
      next.set(id, k + 1);
      if (at === undefined) {
        missing++;
        continue;
      }
      fromResolved.push(at - resolvedAt);
      fromStart.push(at - startedAt);
    }
    const summary = (values: number[]) => ({
      p50: percentile(values, 50),
      p99: percentile(values, 99),
      max: Math.max(...values),
    });
    return {
      writes,
      received: arrivals.length,
      missing,
      fromResolved: summary(fromResolved),
      fromStart: summary(fromStart),
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function mixPhase(push: boolean, durationMs: number) {
  const namespace = `bench:push-lag:${process.pid}:${push ? "on" : "off"}`;
  const a = await spawnPeer({ namespace, push });
  const b = await spawnPeer({ namespace, push });
  try {
    const ids = await a.call<string[]>("create", { count: 200 });
    await b.call("adopt", { ids });
    await b.call("readLoop", { ids, durationMs: 300, concurrency: 4, record: false, perSecond: 0 }); // warm L1
    // 1% writes: one write per 99 reads, at a fixed read rate a single Postgres writer can match.
    const perSecond = READ_RATE / 99;
    const [written, read] = await Promise.all([
      a.call<Array<[string, number, number]>>("writeLoop", { ids, durationMs, perSecond }),
      b.call<{ reads: number; hits: number; misses: number; log: Array<[string, number, number]> }>("readLoop", {
        ids,
        durationMs,
        concurrency: 4,
        record: true,
        perSecond: READ_RATE,
      }),
    ]);
    const writesById = new Map<string, Array<[number, number]>>();
    for (const [id, rev, resolvedAt] of written) {
      const list = writesById.get(id) ?? [];
      list.push([resolvedAt, rev]);
      writesById.set(id, list);
    }
    let stale = 0;
    let staleBeyondWindow = 0;
    let worstMs = 0;
    for (const [id, rev, startedAt] of read.log) {
      const list = writesById.get(id);
      if (list === undefined) continue;
      // The oldest write this read missed: how long it had been resolved when the read started.
      const missed = list.filter(([resolvedAt, r]) => resolvedAt < startedAt && r > rev);
      if (missed.length === 0) continue;
      stale++;
      const age = startedAt - (missed[0] as [number, number])[0];
      worstMs = Math.max(worstMs, age);
      if (age > WINDOW_MS) staleBeyondWindow++;
    }
    const pushStats = await b.call<{ state: string; dropped: number }>("stats");
    return {
      push,
      reads: read.reads,
      writes: written.length,
      writeShare: written.length / (written.length + read.reads),
      l1HitRatio: read.hits / Math.max(1, read.hits + read.misses),
      stale,
      staleBeyondWindow,
      worstStaleMs: worstMs,
      state: pushStats?.state,
      dropped: pushStats?.dropped,
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const writes = quick ? 2_000 : 10_000;
  const durationMs = quick ? 4_000 : 10_000;
  console.log(`push-lag: Postgres ${DATABASE_URL.replace(/\/\/[^@]*@/, "//…@")}, Redis ${REDIS_URL}`);
  let lag: Awaited<ReturnType<typeof lagPhase>>;
  let on: Awaited<ReturnType<typeof mixPhase>>;
  let off: Awaited<ReturnType<typeof mixPhase>>;
  try {
    lag = await lagPhase(writes);
    on = await mixPhase(true, durationMs);
    off = await mixPhase(false, durationMs);
  } finally {
    // The table and every key of this run's namespaces: nothing is left on the servers, even after a failure.
    await removeBenchData(DATABASE_URL, REDIS_URL, { tables: [TABLE], keyPattern: `bench:push-lag:${process.pid}:*` });
  }

  printTable(
    `Invalidation lag, A's write → B's L1 entry dropped (${lag.writes} writes, ${lag.received} received, ${lag.missing} unmatched; ms)`,
    ["measured from", "p50", "p99", "max"],
    [
      [
        "A's update() resolved",
        fmt(lag.fromResolved.p50, 3),
        fmt(lag.fromResolved.p99, 3),
        fmt(lag.fromResolved.max, 3),
      ],
      ["A's update() called", fmt(lag.fromStart.p50, 3), fmt(lag.fromStart.p99, 3), fmt(lag.fromStart.max, 3)],
    ],
  );
  printTable(
    `Read-heavy mix on B (4 readers, ${READ_RATE} reads/s, 200 documents, l1.ttl 2 s, ${durationMs / 1_000} s; 1% writes on A)`,
    [
      "push",
      "reads",
      "writes",
      "write share",
      "L1 hit ratio",
      "stale reads",
      `stale > ${WINDOW_MS} ms`,
      "worst stale ms",
    ],
    [on, off].map((r) => [
      r.push ? `on (${r.state})` : "off",
      String(r.reads),
      String(r.writes),
      `${fmt(r.writeShare * 100, 2)}%`,
      `${fmt(r.l1HitRatio * 100, 2)}%`,
      String(r.stale),
      String(r.staleBeyondWindow),
      fmt(r.worstStaleMs, 1),
    ]),
  );
  const goals = [
    {
      goal: `push invalidation lag p99 < 5 ms, from write resolved (${fmt(lag.fromResolved.p99, 3)} ms)`,
      met: lag.fromResolved.p99 < 5,
    },
  ];
  const goalMet = reportGoals(goals);
  const file = writeResults("push-lag", { quick, windowMs: WINDOW_MS, lag, mix: { on, off }, goals, goalMet });
  const chart = writeBarChart("push-lag", {
    title: "push invalidation: lag (ms, lower is better) and the read mix with push on and off",
    unit: "",
    bars: [
      { group: "lag from A's update() resolved, ms", label: "p50", value: lag.fromResolved.p50 },
      { group: "lag from A's update() resolved, ms", label: "p99", value: lag.fromResolved.p99 },
      { group: "lag from A's update() resolved, ms", label: "max", value: lag.fromResolved.max },
      ...[on, off].map((r) => ({
        group: "L1 hit ratio, %",
        label: r.push ? "push on" : "push off",
        value: r.l1HitRatio * 100,
      })),
      ...[on, off].map((r) => ({ group: "stale reads", label: r.push ? "push on" : "push off", value: r.stale })),
    ],
  });
  console.log(`results: ${file} and ${chart}`);
}

// ───────────────────────────── --cluster ─────────────────────────────

/** L1 off: every read is an L2 hit. */
const l2Only = defineDocument({
  name: "products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m" },
});

async function l2Runtime(source: { url: string } | { client: Cluster }, namespace: string): Promise<Runtime> {
  const runtime = createRuntime({
    modules: [
      postgresModule({ url: DATABASE_URL, documents: { products: { table: TABLE } } }),
      redisModule({ ...source, caches: { products: { namespace } } }),
    ],
    logger: silentLogger,
  });
  await runtime.start();
  return runtime;
}

/** Seeds from REDIS_CLUSTER_NODES, or a local 3+3 cluster started for this run (and stopped after it). */
async function clusterSeeds(): Promise<{ seeds: Array<{ host: string; port: number }>; stop: () => Promise<void> }> {
  const given = process.env.REDIS_CLUSTER_NODES;
  if (given) {
    const seeds = given.split(",").map((hp) => {
      const [host, port] = hp.trim().split(":");
      return { host: host ?? "127.0.0.1", port: Number(port) };
    });
    return { seeds, stop: async () => {} };
  }
  const { startRedisCluster } = await import("../test/support/redis-cluster.js");
  const cluster = await startRedisCluster();
  return { seeds: [...cluster.seeds], stop: () => cluster.stop() };
}

async function clusterMain(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const writes = quick ? 2_000 : 5_000;
  const { seeds, stop } = await clusterSeeds();
  const prefix = `bench:push-lag:${process.pid}`;
  const raw = clusterClient(seeds);
  console.log(
    `push-lag --cluster: Postgres ${DATABASE_URL.replace(/\/\/[^@]*@/, "//…@")}, cluster ${seeds.map((s) => `${s.host}:${s.port}`).join(",")}, single ${REDIS_URL}`,
  );
  try {
    const lagCluster = await lagPhase(writes, seeds);
    const lagSingle = await lagPhase(writes);

    // L2 hits at 64 concurrent, and getMany(100), with L1 off.
    const single = await l2Runtime({ url: REDIS_URL }, `${prefix}:l2`);
    const onCluster = await l2Runtime({ client: clusterClient(seeds) }, `${prefix}:l2c`);
    const ids = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        single
          .context()
          .document.command(l2Only)
          .create({ name: `p${i}`, price: i }),
      ),
    ).then((docs) => docs.map((d) => d.id));
    const qSingle = single.context().document.query(l2Only);
    const qCluster = onCluster.context().document.query(l2Only);
    await qSingle.getMany(ids);
    await qCluster.getMany(ids);
    const pick = (i: number) => ids[(i * 7919) % ids.length] as string;
    const rounds = quick ? 3 : 5;
    const ops = quick ? 20_000 : 50_000;

    // getMany(100) across slots vs raw per-slot MGET, pipelined per node, + JSON.parse of every value: the same
    // documents as JSON under `{id}`-tagged keys (so in the same slots as stratacache's entries).
    const { hashSlot } = await import("../src/l2/redis/hash-slot.js");
    const rawKey = (id: string) => `${prefix}:raw:{${id}}`;
    for (const doc of await qSingle.getMany(ids)) await raw.set(rawKey(doc!.id), JSON.stringify(doc), "PX", 3_600_000);
    const rawMany = async (batch: ReadonlyArray<string>) => {
      const bySlot = new Map<number, string[]>();
      for (const id of batch) {
        const key = rawKey(id);
        const slot = hashSlot(key);
        const list = bySlot.get(slot);
        if (list) list.push(key);
        else bySlot.set(slot, [key]);
      }
      const byNode = new Map<string, string[][]>();
      for (const [slot, keys] of bySlot) {
        const node = raw.slots[slot]?.[0] ?? "";
        const list = byNode.get(node);
        if (list) list.push(keys);
        else byNode.set(node, [keys]);
      }
      const docs: unknown[] = [];
      await Promise.all(
        [...byNode.values()].map(async (groups) => {
          const pipeline = raw.pipeline();
          for (const keys of groups) pipeline.mget(keys);
          for (const [, values] of (await pipeline.exec()) ?? []) {
            for (const value of values as Array<string | null>) docs.push(JSON.parse(value as string));
          }
        }),
      );
      return docs;
    };
    await rawMany(ids.slice(0, 100)); // slot table
    const single1 = new Redis(REDIS_URL);
    for (const doc of await qSingle.getMany(ids))
      await single1.set(rawKey(doc!.id), JSON.stringify(doc), "PX", 3_600_000);
    const tSingle: number[] = [];
    const tCluster: number[] = [];
    const tRawSingle: number[] = [];
    const tRawCluster: number[] = [];
    for (let r = 0; r < rounds; r++) {
      tSingle.push(await throughput(ops, 64, (i) => qSingle.get(pick(i))));
      tCluster.push(await throughput(ops, 64, (i) => qCluster.get(pick(i))));
      tRawSingle.push(
        await throughput(ops, 64, async (i) => JSON.parse((await single1.get(rawKey(pick(i)))) as string)),
      );
      tRawCluster.push(await throughput(ops, 64, async (i) => JSON.parse((await raw.get(rawKey(pick(i)))) as string)));
    }
    single1.disconnect();
    const batches = Array.from({ length: 50 }, (_, b) => Array.from({ length: 100 }, (_, i) => pick(b * 100 + i)));
    const manyStrata: number[] = [];
    const manyRaw: number[] = [];
    const iterations = quick ? 200 : 500;
    for (let r = 0; r < rounds; r++) {
      manyStrata.push(await latencyUs(iterations, (i) => qCluster.getMany(batches[i % batches.length]!)));
      manyRaw.push(await latencyUs(iterations, (i) => rawMany(batches[i % batches.length]!)));
    }
    await single.stop();
    await onCluster.stop();

    const row = (label: string, lag: Awaited<ReturnType<typeof lagPhase>>) => [
      label,
      fmt(lag.fromResolved.p50, 3),
      fmt(lag.fromResolved.p99, 3),
      fmt(lag.fromResolved.max, 3),
      String(lag.missing),
    ];
    printTable(
      `Invalidation lag, A's write → B's L1 entry dropped, from A's update() resolved (${writes} writes each; ms)`,
      ["Redis", "p50", "p99", "max", "unmatched"],
      [row("cluster 3+3 (6 subscribers)", lagCluster), row("single server", lagSingle)],
    );
    const ratioT = median(tCluster) / median(tSingle);
    const ratioRaw = median(tRawCluster) / median(tRawSingle);
    printTable(
      `L2-hit get() throughput, 64 concurrent, L1 off (median of ${rounds} rounds of ${ops}; reads/s)`,
      ["reader", "median", "rounds", "cluster vs single"],
      [
        ["stratacache, single server", fmt(median(tSingle), 0), tSingle.map((t) => fmt(t, 0)).join(" "), "1.00×"],
        [
          "stratacache, cluster 3+3",
          fmt(median(tCluster), 0),
          tCluster.map((t) => fmt(t, 0)).join(" "),
          `${fmt(ratioT, 2)}×`,
        ],
        [
          "raw GET + JSON.parse, single",
          fmt(median(tRawSingle), 0),
          tRawSingle.map((t) => fmt(t, 0)).join(" "),
          "1.00×",
        ],
        [
          "raw GET + JSON.parse, cluster",
          fmt(median(tRawCluster), 0),
          tRawCluster.map((t) => fmt(t, 0)).join(" "),
          `${fmt(ratioRaw, 2)}×`,
        ],
      ],
    );
    const ratioMany = median(manyStrata) / median(manyRaw);
    printTable(
      `getMany(100) across slots on the cluster, L1 off (median of ${rounds} rounds of ${iterations}; µs per call)`,
      ["reader", "median µs", "rounds", "vs raw"],
      [
        [
          "raw MGET per slot, pipelined per node",
          fmt(median(manyRaw), 0),
          manyRaw.map((t) => fmt(t, 0)).join(" "),
          "1.00×",
        ],
        [
          "stratacache getMany",
          fmt(median(manyStrata), 0),
          manyStrata.map((t) => fmt(t, 0)).join(" "),
          `${fmt(ratioMany, 2)}×`,
        ],
      ],
    );
    const goals = [
      {
        goal: `push invalidation lag p99 < 5 ms on the cluster, from write resolved (${fmt(lagCluster.fromResolved.p99, 3)} ms)`,
        met: lagCluster.fromResolved.p99 < 5,
      },
      {
        goal: `getMany(100) across slots ≤ 1.2× raw per-slot MGET pipelined (${fmt(ratioMany, 2)}×)`,
        met: ratioMany <= 1.2,
      },
      {
        goal: `L2-hit throughput at 64 concurrent does not collapse on the cluster: ≥ 0.5× single server (${fmt(ratioT, 2)}×; 2 shared cores, no scaling expected)`,
        met: ratioT >= 0.5,
      },
    ];
    const goalMet = reportGoals(goals);
    const file = writeResults("push-lag-cluster", {
      quick,
      lag: { cluster: lagCluster, single: lagSingle },
      l2HitThroughput: {
        single: tSingle,
        cluster: tCluster,
        ratio: ratioT,
        rawSingle: tRawSingle,
        rawCluster: tRawCluster,
        rawRatio: ratioRaw,
      },
      getMany100Us: { stratacache: manyStrata, raw: manyRaw, ratio: ratioMany },
      goals,
      goalMet,
    });
    console.log(`results: ${file}`);
  } finally {
    raw.disconnect();
    await removeBenchData(DATABASE_URL, REDIS_URL, { tables: [TABLE], keyPattern: `${prefix}:*` });
    await stop(); // a cluster we started leaves nothing behind; one given by REDIS_CLUSTER_NODES keeps keys until ttl
  }
}

const peer = process.env.PUSH_LAG_PEER;
if (peer !== undefined) await runPeer(JSON.parse(peer) as PeerConfig);
else if (process.argv.includes("--cluster")) await clusterMain();
else await main();

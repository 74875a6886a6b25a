/**
 * stratacache against its peers and the raw clients, on the same Postgres table and the same private Redis, rounds
 * interleaved across contenders: bentocache 1.6.1, cacheable 2.5.0, cache-manager 7.2.9 (Keyv + @keyv/redis 5.1.6),
 * @epic-web/cachified 5.6.3 and layered-loader 16.1.0 (pinned in bench/package.json, installed on first use).
 *
 *   npm run build                                 # first: this benchmark measures dist/
 *   npm run bench -- peers [--quick] [--runs 5]   # --quick: about a minute
 *   npm run bench -- peers --repeat 3             # 3 whole runs, each in a fresh process; verdicts on their medians
 *
 * stratacache runs from the built dist/ (the code users get), never through tsx: build first. Workloads (one table,
 * medians over rounds, ratios vs the fastest peer and vs raw):
 *   L1 hit                  ops/s of sequential awaited reads of 1,024 resident documents on each contender's
 *                           in-process tier in front of Redis (`query.get`, getOrSet, wrap, cachified, Loader.get)
 *                           vs a synchronous lru-cache `get`; also a floor, not a contender: the same loop awaiting a
 *                           promise kept in a Map (no expiry, recency or count), each contender's cost over it printed
 *   L2 hit p50              in-process tier off: one read of a warm key (Redis) vs ioredis GET + JSON.parse
 *   L2 hit, 64 concurrent   the same from 64 callers in flight, ops/s
 *   miss p50                a cold key: Redis miss, Postgres SELECT by id, fill; vs SELECT + SET
 *   getMany(100) warm/cold  each peer's batch path (below) vs MGET + parse / `= ANY($1)` + pipelined SET
 *   heap per 100k entries   growth of V8 heap + ArrayBuffers for a fresh in-process tier filled through each contender's read path (the
 *                           documents included), scaled to 100,000 entries, vs lru-cache holding pg's row objects
 *
 * How each peer is configured (support/peer-contenders.ts has the details; the run prints what each returns):
 * in-process tiers hand out cached objects by reference where the peer allows (bentocache `serialize: false`,
 * CacheableMemory `useClone: false`; layered-loader and cachified always do), stratacache hands out deep-frozen
 * documents with Dates; peers write JSON to Redis, so their L2 hits return timestamps as strings; only stratacache
 * validates (ids, entry header); only stratacache has timeouts on by default (every Redis call, 250 ms, on one timer per connection), the
 * peers' are left at their defaults (off). Batches: layered-loader `getMany`, cachified `createBatch`, cacheable
 * `getMany`/`setMany` and cache-manager `mget`/`mset` with one `= ANY` for the missing ids; bentocache has no bulk
 * API (1.6.1), so `Promise.all` of getOrSet. Loads share named prepared statements on one pg pool.
 *
 * Every round flushes the private Redis, so misses and cold batches are cold for everyone. A read that should hit
 * but reached Postgres fails the run. Also prints Redis' own CPU per operation of each latency workload (the private
 * server's main-thread CPU time over each contender's turn, with its busiest commands), Node's main-thread busy time
 * per operation (event loop utilisation over each turn), and what each contender returns. Goals (issue 19): miss p50 ≤ 1.0× the fastest peer and ≤ 1.3× raw; L2 hit
 * p50 ≤ 1.1× raw; 64 concurrent ≥ the fastest peer; getMany warm ≤ 1.2× raw; cold ≤ 1.15× raw and ≤ 1.0× the
 * fastest peer; heap ≤ 1.1× lru-cache; L1 hit ≥ 2× the fastest peer (W-TinyLFU goals: l1-policies, l1-throughput).
 * Uses DATABASE_URL (else the local Postgres); spawns its own redis-server. Writes bench/results/peers.json and
 * bench/results/peers-<workload>.svg.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Redis } from "ioredis";
import { Redis as Redis6 } from "ioredis6";
import pg from "pg";
import { z } from "zod";
import type * as Strata from "../src/index.js";
import { startRedis } from "../test/support/redis.js";
import { importDist, requireBuiltDist } from "./support/built-dist.js";
import { repeatIfAsked } from "./support/fresh-run.js";
import { reportGoals } from "./support/goals.js";
import { fmt, median, percentile, printTable, writeResults } from "./support/measure.js";
import { measureThroughput, pairedRatio, type ThroughputCase } from "./support/measure-throughput.js";
import {
  bentocacheContender,
  type Contender,
  cacheableContender,
  cacheManagerContender,
  cachifiedContender,
  layeredLoaderContender,
  type PeerSetup,
  rawContender,
  SourceRows,
} from "./support/peer-contenders.js";
import { judgePeerGoals } from "./support/peer-goals.js";
import { repeatPeers } from "./support/repeat-peers.js";
import { chartName, writeBarChart } from "./support/svg-bar-chart.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runsArg = args.indexOf("--runs");
const runsGiven = runsArg >= 0 ? Number(args[runsArg + 1]) : Number.NaN;
const runs = Math.max(3, Number.isInteger(runsGiven) ? runsGiven : quick ? 3 : 5);
const ROWS = quick ? 20_000 : 100_000; // table size, and the entries each heap instance holds
const L1_DOCS = 1024; // resident documents of the L1 hit workload (a power of two: the cursor is masked)
const WARM = 300; // ids read warm by the L2 hit and getMany warm workloads
const MISS_OPS = quick ? 150 : 300;
const HIT_OPS = quick ? 600 : 2_000;
const MANY_WARM_OPS = quick ? 30 : 80;
const MANY_COLD_OPS = quick ? 10 : 40; // a p50 of 40 samples per round, not 20: the cold rows moved ±10% per run
const THROUGHPUT = quick ? { rounds: 5, roundMs: 80 } : { rounds: 7, roundMs: 150 };
const TTL_MS = 3_600_000;
/** The L1 hit workload's floor case (not a contender): see where it is measured. */
const L1_FLOOR = "floor";
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TABLE = `bench_peers_${process.pid}`;

// ── stratacache from dist/ ──
requireBuiltDist("peers");
// --repeat N: N whole runs, each in its own process, judged on their medians (support/repeat-peers.ts).
await repeatIfAsked(args, repeatPeers);
const strata = await importDist<typeof Strata>("index.js");

// ── heap measurement: gc on demand without a command-line flag ──
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** V8 heap plus ArrayBuffer backing stores: typed-array links and deadlines (lru-cache's, ours) live off the heap. */
function footprint(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
async function heapGrowth(fill: () => Promise<unknown>): Promise<number> {
  gc();
  gc();
  const before = footprint();
  const held = await fill();
  gc();
  gc();
  const after = footprint();
  if (held === undefined) throw new Error("heap: nothing held");
  return after - before;
}

/** The server's main-thread CPU time so far (user + system), µs, from `INFO cpu`. */
function mainThreadCpuUs(info: string): number {
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return (seconds("used_cpu_user_main_thread") + seconds("used_cpu_sys_main_thread")) * 1e6;
}

/** `INFO commandstats` as { command: { calls, usec } }, without the benchmark's own CONFIG/INFO/FLUSHDB. */
function parseCommandStats(info: string): Record<string, { calls: number; usec: number }> {
  const stats: Record<string, { calls: number; usec: number }> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, command, calls, usec] = match as unknown as [string, string, string, string];
    if (/^(config|info|flushdb)(\||$)/.test(command)) continue; // Redis 7 names subcommands config|resetstat
    stats[command] = { calls: Number(calls), usec: Number(usec) };
  }
  return stats;
}

const loadBefore = os.loadavg();
const redisServer = await startRedis();
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const flusher = new Redis(redisServer.url);
const runtimes: Strata.Runtime[] = [];
const contenders: Contender[] = [];

const fields = z.object({ name: z.string(), price: z.number().int(), tags: z.array(z.string()) });
/** A stratacache runtime on the shared table: `l1` capacity, or none. */
async function strataRuntime(name: string, l1Capacity: number | undefined, timeoutMs = 250) {
  const spec = strata.defineDocument({
    name,
    fields,
    cache: l1Capacity ? { ttl: "1h", l1: { ttl: "30m", capacity: l1Capacity } } : { ttl: "1h" },
  });
  const runtime = strata.createRuntime({
    modules: [
      strata.postgresModule({ url: DATABASE_URL, documents: { [name]: { table: TABLE } } }),
      strata.redisModule({ url: redisServer.url, timeoutMs, caches: { [name]: { namespace: `strata-${name}` } } }),
    ],
    logger: strata.silentLogger,
  });
  runtimes.push(runtime);
  await runtime.start();
  return { runtime, query: runtime.context().document.query(spec) };
}

try {
  const l2 = await strataRuntime("peers_l2", undefined);
  const l1 = await strataRuntime("peers_l1", 2 * L1_DOCS);
  await pool.query(
    `INSERT INTO ${TABLE} (id, rev, data) SELECT gen_random_uuid(), 1, jsonb_build_object('name', 'product ' || g,
     'price', g, 'tags', jsonb_build_array('bench', 't' || (g % 7))) FROM generate_series(1, ${ROWS}) g`,
  );
  const ids = (await pool.query<{ id: string }>(`SELECT id FROM ${TABLE} ORDER BY incarnation`)).rows.map((r) => r.id);

  const setup: PeerSetup = {
    redisUrl: redisServer.url,
    pool,
    table: TABLE,
    l1Capacity: 2 * L1_DOCS,
    ttlMs: TTL_MS,
    redis5: () => new Redis(redisServer.url),
    redis6: () => new Redis6(redisServer.url) as unknown as Redis,
  };
  // stratacache reads Postgres through its own pool: its loads are the documents its L2 did not answer.
  const strataSource = new SourceRows(pool, TABLE);
  const l2Lookups = (s: { l2: { misses: number; errors: number } }) => s.l2.misses + s.l2.errors;
  const strataStats = () => l2Lookups(l2.query.stats()) + l2Lookups(l1.query.stats());
  contenders.push(
    {
      name: "stratacache",
      kind: "stratacache",
      config:
        "query.get / getMany from dist/; L1 lru (capacity 2048, ttl 30m) over Redis (ioredis 5, own entry format, fenced fill); timeoutMs 250, queryTimeoutMs 10 s; documents deep-frozen with Dates",
      source: strataSource,
      l1Get: (id) => l1.query.get(id),
      get: (id) => l2.query.get(id),
      getMany: (ids) => l2.query.getMany(ids),
      fillHeap: async (heapIds, capacity) => {
        const heap = await strataRuntime("peers_heap", capacity, 5_000);
        for (let i = 0; i < heapIds.length; i += 1000) await heap.query.getMany(heapIds.slice(i, i + 1000));
        await heap.runtime.settled(); // L1 takes each document once its fill has landed, right behind the read
        const resident = heapIds.filter((id) => heap.query.peek(id) !== undefined).length;
        if (resident !== heapIds.length) throw new Error(`stratacache heap: ${resident} of ${heapIds.length} in L1`);
        return heap;
      },
      close: async () => {},
    },
    await bentocacheContender(setup),
    await cacheableContender(setup),
    await cacheManagerContender(setup),
    await cachifiedContender(setup),
    await layeredLoaderContender(setup),
    await rawContender(setup),
  );
  const loads = (c: Contender) => (c.kind === "stratacache" ? strataStats() : c.source.loads);
  /** Runs `body` and fails unless `c` loaded exactly `expected` documents from Postgres meanwhile. */
  async function expectLoads<T>(c: Contender, what: string, expected: number, body: () => Promise<T>): Promise<T> {
    const before = loads(c);
    const result = await body();
    const seen = loads(c) - before;
    if (seen !== expected) throw new Error(`${c.name}, ${what}: expected ${expected} Postgres loads, saw ${seen}`);
    return result;
  }
  const peers = contenders.filter((c) => c.kind === "peer");

  // ── heap per 100k L1 entries (first, on a quiet heap) ──
  const heapIds = ids.slice(0, ROWS);
  const heapBytes = new Map<string, number>();
  for (const c of contenders) {
    let held: unknown;
    const bytes = await heapGrowth(async () => {
      held = await c.fillHeap(heapIds, ROWS);
      return held;
    });
    heapBytes.set(c.name, (bytes * 100_000) / ROWS);
    if (c.kind === "stratacache") await (held as { runtime: Strata.Runtime }).runtime.stop();
    held = undefined;
    process.stdout.write(`heap: ${c.name} ${fmt(bytes / ROWS, 0)} B/entry\n`);
  }

  // ── warm every L1 instance, then what each returns ──
  const l1Ids = ids.slice(0, L1_DOCS);
  for (const c of contenders) for (const id of l1Ids) await c.l1Get(id);
  const fidelity: Record<string, Record<string, string>> = {};
  const probe = ids[ROWS - 1] as string;
  const created = (value: unknown) => {
    const doc = value as { createdAt?: unknown; created_at?: unknown };
    const at = doc.createdAt ?? doc.created_at;
    return at instanceof Date ? "Date" : typeof at;
  };
  for (const c of contenders) {
    if (c.kind === "raw") continue;
    const onMiss = await c.get(probe);
    const onHit = await expectLoads(c, "L2 hit probe", 0, () => c.get(probe));
    const first = await c.l1Get(l1Ids[0] as string);
    const second = await c.l1Get(l1Ids[0] as string);
    fidelity[c.name] = {
      "miss: createdAt": created(onMiss),
      "L2 hit: createdAt": created(onHit),
      "L1 hit: same object twice": String(first === second),
      "L1 hit: frozen": String(Object.isFrozen(first)),
    };
  }
  printTable(
    "what each returns (measured): timestamps after a miss and after an L2 hit; whether the L1 hands out one shared object",
    ["contender", ...Object.keys(Object.values(fidelity)[0] ?? {})],
    Object.entries(fidelity).map(([name, f]) => [name, ...Object.values(f)]),
  );

  // ── latency rounds: each round flushes Redis, then every workload runs every contender (rotating the order) ──
  type Latency = "miss p50" | "L2 hit p50" | "getMany(100) warm p50" | "getMany(100) cold p50";
  const latency = new Map<Latency, Map<string, number[]>>();
  const record = (workload: Latency, name: string, value: number) => {
    const byName = latency.get(workload) ?? new Map<string, number[]>();
    latency.set(workload, byName);
    byName.set(name, [...(byName.get(name) ?? []), value]);
  };
  const p50Us = async (ops: number, op: (i: number) => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < ops; i++) {
      const start = process.hrtime.bigint();
      await op(i);
      samples.push(Number(process.hrtime.bigint() - start) / 1_000);
    }
    return percentile(samples, 50);
  };
  const warmIds = ids.slice(0, WARM);
  const warmBatch = (i: number) => Array.from({ length: 100 }, (_, j) => warmIds[(i * 7 + j) % WARM] as string);
  const coldBatch = (i: number) => ids.slice(WARM + i * 100, WARM + (i + 1) * 100);
  const warm = (c: Contender) => (c.getManyCold ?? c.getMany)(warmIds);
  const rotated = (round: number) => contenders.map((_, j) => contenders[(j + round) % contenders.length] as Contender);
  // Untimed warm-up of every path, so V8 has optimised each contender before anything is recorded.
  for (const runtime of runtimes) await runtime.settled();
  await flusher.flushdb();
  for (const c of contenders) {
    for (let i = 0; i < 20; i++) await (c.miss ?? c.get)(ids[WARM + 2_000 + i] as string);
    await warm(c);
    for (let i = 0; i < 200; i++) await c.get(warmIds[i % WARM] as string);
    for (let i = 0; i < 5; i++) await c.getMany(warmBatch(i));
  }
  // Redis' own CPU per operation: the server's main-thread CPU time (INFO cpu) over each contender's turn, so socket
  // reads, command parsing, execution and replies all count, each once. (Summing INFO commandstats would count a
  // script's inner calls twice: inside EVALSHA's time and again as their own commands.) What each contender costs the
  // server that Node and Postgres share the machine with.
  const redisUs = new Map<Latency, Map<string, number[]>>();
  /**
   * Node's main-thread busy time per operation (event loop utilisation: running JS, GC pauses and callbacks, not
   * waiting on I/O), per contender and workload. Not process.cpuUsage: that also counts V8's background GC threads,
   * which sweep the last contender's garbage during this one's turn.
   */
  const nodeUs = new Map<Latency, Map<string, number[]>>();
  const redisCommands = new Map<Latency, Map<string, Record<string, { calls: number; usec: number }>>>();
  async function measured(
    workload: Latency,
    c: Contender,
    ops: number,
    loadsExpected: number,
    op: (i: number) => Promise<unknown>,
  ) {
    await flusher.config("RESETSTAT");
    const serverBefore = mainThreadCpuUs(await flusher.info("cpu"));
    const busy = performance.eventLoopUtilization();
    const us = await expectLoads(c, workload, loadsExpected, () => p50Us(ops, op));
    const active = performance.eventLoopUtilization(busy).active; // ms the main thread was not waiting
    const serverUs = mainThreadCpuUs(await flusher.info("cpu")) - serverBefore;
    const stats = parseCommandStats(await flusher.info("commandstats"));
    record(workload, c.name, us);
    const nodeByName = nodeUs.get(workload) ?? new Map<string, number[]>();
    nodeUs.set(workload, nodeByName);
    nodeByName.set(c.name, [...(nodeByName.get(c.name) ?? []), (active * 1_000) / ops]);
    const byName = redisUs.get(workload) ?? new Map<string, number[]>();
    redisUs.set(workload, byName);
    byName.set(c.name, [...(byName.get(c.name) ?? []), serverUs / ops]);
    const commands = redisCommands.get(workload) ?? new Map<string, Record<string, { calls: number; usec: number }>>();
    redisCommands.set(workload, commands);
    const sum = commands.get(c.name) ?? {};
    for (const [command, s] of Object.entries(stats)) {
      const before = sum[command] ?? { calls: 0, usec: 0 };
      sum[command] = { calls: before.calls + s.calls, usec: before.usec + s.usec };
    }
    commands.set(c.name, sum);
  }
  for (let round = 0; round < runs; round++) {
    // stratacache's fills land behind its reads: let the last round's settle, or a cold batch of this round joins
    // a read still in flight from the last (single-flight) and loads nothing.
    for (const runtime of runtimes) await runtime.settled();
    await flusher.flushdb();
    const order = rotated(round);
    for (const c of order) {
      const miss = c.miss ?? c.get;
      await measured("miss p50", c, MISS_OPS, MISS_OPS, (i) => miss(ids[i] as string));
    }
    for (const c of order) await warm(c);
    for (const c of order) await measured("L2 hit p50", c, HIT_OPS, 0, (i) => c.get(warmIds[i % WARM] as string));
    for (const c of order) {
      await measured("getMany(100) warm p50", c, MANY_WARM_OPS, 0, (i) => c.getMany(warmBatch(i)));
    }
    for (const c of order) {
      const cold = c.getManyCold ?? c.getMany;
      await measured("getMany(100) cold p50", c, MANY_COLD_OPS, MANY_COLD_OPS * 100, (i) => cold(coldBatch(i)));
    }
    process.stdout.write(`round ${round + 1}/${runs} done\n`);
  }
  printTable(
    "Redis CPU per operation, µs (the private server's main-thread CPU time, INFO cpu, medians of the rounds; the busiest commands by INFO commandstats)",
    ["workload", ...contenders.map((c) => c.name)],
    [...redisUs].map(([workload, byName]) => [
      workload.replace(/ p50$/, ""),
      ...contenders.map((c) => {
        const commands = Object.entries(redisCommands.get(workload)?.get(c.name) ?? {})
          .sort((a, b) => b[1].usec - a[1].usec)
          .slice(0, 2)
          .map(([command]) => command);
        return `${fmt(median(byName.get(c.name) ?? []), 1)} (${commands.join("+")})`;
      }),
    ]),
  );

  printTable(
    "Node main-thread busy time per operation, µs (event loop utilisation over each contender's turn: JS, GC pauses, callbacks; medians of the rounds)",
    ["workload", ...contenders.map((c) => c.name)],
    [...nodeUs].map(([workload, byName]) => [
      workload.replace(/ p50$/, ""),
      ...contenders.map((c) => fmt(median(byName.get(c.name) ?? []), 1)),
    ]),
  );

  // ── throughput: L1 hits, and L2 hits from 64 callers (interleaved rounds inside measureThroughput) ──
  // The floor of an awaited L1 hit in this loop: a promise already kept in a Map, handed out with no expiry check,
  // recency update or count. What an in-process tier costs above it is its own bookkeeping.
  const kept = new Map<string, Promise<unknown>>();
  for (const id of l1Ids) kept.set(id, Promise.resolve(await l1.query.get(id)));
  const floorCase = { name: L1_FLOOR, kind: "floor", l1Get: (id: string): unknown => kept.get(id) } as const;
  const l1Cases: ThroughputCase[] = [...contenders, floorCase].map((c) => {
    let cursor = 0;
    if (c.kind === "raw") {
      return {
        name: c.name,
        run: (ops) => {
          let found = 0;
          for (let i = 0; i < ops; i++) if (c.l1Get(l1Ids[cursor++ & (L1_DOCS - 1)] as string) !== undefined) found++;
          if (found !== ops) throw new Error("raw lru-cache: expected only hits");
        },
      };
    }
    return {
      name: c.name,
      run: async (ops) => {
        for (let i = 0; i < ops; i++) await c.l1Get(l1Ids[cursor++ & (L1_DOCS - 1)] as string);
      },
    };
  });
  const before = contenders.map(loads);
  const l1Measured = await measureThroughput(l1Cases, THROUGHPUT);
  const l1Results = l1Measured.filter((r) => r.name !== L1_FLOOR);
  const l1Floor = l1Measured.find((r) => r.name === L1_FLOOR);
  if (l1Floor === undefined) throw new Error("peers: the L1 hit floor was not measured");
  contenders.forEach((c, i) => {
    if (loads(c) !== before[i]) throw new Error(`${c.name}: an L1 hit reached Postgres`);
  });
  for (const c of contenders) await warm(c);
  const concurrentCases: ThroughputCase[] = contenders.map((c) => ({
    name: c.name,
    run: async (ops) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < ops) await c.get(warmIds[next++ % WARM] as string);
        }),
      );
    },
  }));
  const beforeConcurrent = contenders.map(loads);
  const concurrentResults = await measureThroughput(concurrentCases, THROUGHPUT);
  contenders.forEach((c, i) => {
    if (loads(c) !== beforeConcurrent[i]) throw new Error(`${c.name}: a concurrent L2 hit reached Postgres`);
  });

  // ── one table ──
  interface Workload {
    readonly name: string;
    readonly unit: string;
    readonly better: "lower" | "higher";
    readonly values: Map<string, number>;
    readonly rounds: Map<string, ReadonlyArray<number>>;
  }
  const fromThroughput = (name: string, results: typeof l1Results): Workload => ({
    name,
    unit: "ops/s",
    better: "higher",
    values: new Map(results.map((r) => [r.name, r.opsPerSec])),
    rounds: new Map(results.map((r) => [r.name, r.rounds])),
  });
  const fromLatency = (name: Latency): Workload => {
    const byName = latency.get(name) as Map<string, number[]>;
    return {
      name,
      unit: "µs",
      better: "lower",
      values: new Map([...byName].map(([who, values]) => [who, median(values)])),
      rounds: byName,
    };
  };
  const workloads: Workload[] = [
    fromThroughput("L1 hit", l1Results),
    fromLatency("L2 hit p50"),
    fromThroughput("L2 hit, 64 concurrent", concurrentResults),
    fromLatency("miss p50"),
    fromLatency("getMany(100) warm p50"),
    fromLatency("getMany(100) cold p50"),
    {
      name: "heap per 100k L1 entries",
      unit: "MB",
      better: "lower",
      values: new Map([...heapBytes].map(([who, bytes]) => [who, bytes / 1e6])),
      rounds: new Map([...heapBytes].map(([who, bytes]) => [who, [bytes / 1e6]])),
    },
  ];
  /**
   * stratacache's cost over another's (time, bytes or 1/throughput): below 1 means stratacache is ahead. The median
   * of per-round ratios (every round measures every contender back to back; see pairedRatio).
   */
  const costRatio = (w: Workload, other: string) => {
    const ours = w.rounds.get("stratacache") as ReadonlyArray<number>;
    const theirs = w.rounds.get(other) as ReadonlyArray<number>;
    return w.better === "lower" ? pairedRatio(ours, theirs) : pairedRatio(theirs, ours);
  };
  const summary = workloads.map((w) => {
    const peerValues = peers.map((p) => [p.name, w.values.get(p.name) as number] as const);
    const [fastestName] = peerValues.reduce((best, next) =>
      (w.better === "lower" ? next[1] < best[1] : next[1] > best[1]) ? next : best,
    );
    return { ...w, fastestName, vsFastest: costRatio(w, fastestName), vsRaw: costRatio(w, "raw") };
  });
  const shown = (w: Workload, value: number | undefined) =>
    value === undefined ? "—" : w.unit === "ops/s" ? `${fmt(value / 1e3, 0)}k` : fmt(value, w.unit === "MB" ? 1 : 0);
  printTable(
    `stratacache vs peers — medians of ${runs} rounds (throughput: ${THROUGHPUT.rounds}); ratios are stratacache's cost ÷ the other's (time, bytes, 1/throughput), medians of per-round ratios: < 1 is ahead`,
    ["workload", "unit", ...contenders.map((c) => c.name), "fastest peer", "÷ fastest peer", "÷ raw"],
    summary.map((w) => [
      w.name,
      w.unit,
      ...contenders.map((c) => shown(w, w.values.get(c.name))),
      w.fastestName,
      `${fmt(w.vsFastest, 2)}×`,
      `${fmt(w.vsRaw, 2)}×`,
    ]),
  );
  // Each awaited contender's L1 hit cost over the floor's, by per-round ratios (rounds interleave every case); raw's
  // synchronous loop awaits nothing, so it has no place beside them.
  const awaited = l1Results.filter((r) => r.name !== "raw");
  const l1HitFloor = {
    opsPerSec: l1Floor.opsPerSec,
    costOverFloor: Object.fromEntries(awaited.map((r) => [r.name, pairedRatio(l1Floor.rounds, r.rounds)])),
  };
  console.log(
    `\nL1 hit floor (await of a promise kept in a Map, in the same loop): ${fmt(l1Floor.opsPerSec / 1e6, 2)} M ops/s; cost ÷ floor: ${awaited
      .map((r) => `${r.name} ${fmt(l1HitFloor.costOverFloor[r.name] as number, 2)}×`)
      .join(", ")}`,
  );
  console.log("\nconfigurations:");
  for (const c of contenders) console.log(`  ${c.name}: ${c.config}`);

  const row = (name: string) => summary.find((w) => w.name === name) as (typeof summary)[number];
  const goals = judgePeerGoals(row);
  const goalMet = reportGoals(goals);
  const loadAfter = os.loadavg();
  const machine = {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 1e9),
    loadavgBefore: loadBefore.map((v) => Number(v.toFixed(2))),
    loadavgAfter: loadAfter.map((v) => Number(v.toFixed(2))),
  };
  console.log(
    `\nmachine: ${machine.cpu}, ${machine.cores} cores; load average before ${machine.loadavgBefore.join(" ")}, after ${machine.loadavgAfter.join(" ")}`,
  );
  const file = writeResults("peers", {
    at: new Date().toISOString(),
    quick,
    runs,
    throughputRounds: THROUGHPUT.rounds,
    rows: ROWS,
    node: process.version,
    machine,
    versions: {
      bentocache: "1.6.1",
      cacheable: "2.5.0",
      "cache-manager": "7.2.9",
      "@keyv/redis": "5.1.6",
      "@epic-web/cachified": "5.6.3",
      "layered-loader": "16.1.0",
    },
    configurations: Object.fromEntries(contenders.map((c) => [c.name, c.config])),
    fidelity,
    redisCpuUsPerOp: Object.fromEntries(
      [...redisUs].map(([workload, byName]) => [
        workload,
        Object.fromEntries([...byName].map(([who, values]) => [who, { median: median(values), rounds: values }])),
      ]),
    ),
    nodeBusyUsPerOp: Object.fromEntries(
      [...nodeUs].map(([workload, byName]) => [
        workload,
        Object.fromEntries([...byName].map(([who, values]) => [who, { median: median(values), rounds: values }])),
      ]),
    ),
    redisCommands: Object.fromEntries(
      [...redisCommands].map(([workload, byName]) => [workload, Object.fromEntries(byName)]),
    ),
    l1HitFloor,
    workloads: summary.map((w) => ({
      name: w.name,
      unit: w.unit,
      better: w.better,
      median: Object.fromEntries(w.values),
      rounds: Object.fromEntries(w.rounds),
      fastestPeer: w.fastestName,
      vsFastestPeer: w.vsFastest,
      vsRaw: w.vsRaw,
    })),
    goals,
    goalMet,
  });
  const charts = summary.map((w) =>
    writeBarChart(chartName("peers", w.name), {
      title: `${w.name} — ${w.better === "lower" ? "lower" : "higher"} is better (medians of ${w.unit === "ops/s" ? THROUGHPUT.rounds : runs} rounds)`,
      unit: w.unit,
      bars: contenders.map((c) => ({ label: c.name, value: w.values.get(c.name) ?? Number.NaN })),
    }),
  );
  console.log(`\nwrote ${file} and ${charts.join(", ")}`);
} finally {
  for (const c of contenders) await c.close().catch(() => {});
  for (const runtime of runtimes) await runtime.stop().catch(() => {});
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => {});
  await pool.end();
  flusher.disconnect();
  await redisServer.stop();
}

/**
 * Coordination throughput: lock acquire+release round trips/s and rate-limit checks/s at 64 concurrent callers,
 * Redis vs Postgres vs memory, next to raw Redis baselines (`SET NX PX` + an owner-checked `DEL` script; a raw Lua
 * sliding-window counter); and the Postgres cache store's get/set latency next to raw `SELECT` / `INSERT … ON
 * CONFLICT` on the same table. Goals: Redis lock and rate limit ≥ 0.9× the raw baseline; Postgres store get/set
 * p50 ≤ 1.15× raw. Cases are interleaved round by round; medians of the rounds are reported.
 *
 *   npm run bench -- coordination [--quick]
 *
 * Uses DATABASE_URL / REDIS_URL, else the local servers; removes what it wrote.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Redis } from "ioredis";
import pg from "pg";
import { CacheCoordination } from "../src/coordination/cache-coordination.js";
import { MemoryCoordination } from "../src/coordination/memory/memory-coordination.js";
import { PostgresCoordination } from "../src/coordination/postgres/postgres-coordination.js";
import { RedisCoordination } from "../src/coordination/redis/redis-coordination.js";
import { createRuntime, postgresCacheModule, silentLogger, systemClock } from "../src/index.js";
import { migrateCacheTable } from "../src/l2/postgres/cache-table.js";
import { pgDriver } from "../src/repository/postgres/pg-driver.js";
import { reportGoals } from "./support/goals.js";
import { removeBenchData } from "./support/leftovers.js";
import { fmt, median, percentile, printTable, writeResults } from "./support/measure.js";
import { renderLineChart } from "./support/svg-line-chart.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TABLE = "bench_coord_cache";
const CONCURRENCY = 64;
const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 3 : 5;
const ROUND_MS = quick ? 400 : 1_000;
const ns = `bench-coord:${randomUUID().slice(0, 8)}`;

interface Case {
  readonly name: string;
  /** One operation by worker `w` (its own key: the measure is round trips, not contention). */
  readonly op: (w: number, i: number) => Promise<unknown>;
}

/** Ops/s of `op` run by CONCURRENCY workers for about ROUND_MS. */
async function round(c: Case): Promise<number> {
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; performance.now() - started < ROUND_MS; i++) {
        await c.op(w, i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function interleaved(cases: ReadonlyArray<Case>): Promise<Map<string, number[]>> {
  const out = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (const c of cases) await round(c); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    const order = cases.map((_, i) => cases[(i + r) % cases.length]!);
    for (const c of order) out.get(c.name)!.push(await round(c));
  }
  return out;
}

const redis = new Redis(REDIS_URL);
// 16 connections: the server is shared (its max_connections); 64 callers queue on them.
const driver = pgDriver({ url: DATABASE_URL, max: 16 });
await migrateCacheTable(driver, TABLE);
const stores = {
  redis: new RedisCoordination(redis, ns, 5_000),
  postgres: new PostgresCoordination(driver, TABLE, ns),
  memory: new MemoryCoordination(systemClock),
};
const api = Object.fromEntries(
  Object.entries(stores).map(([k, s]) => [k, new CacheCoordination(s, systemClock)]),
) as Record<keyof typeof stores, CacheCoordination>;

const RAW_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const RAW_SLIDING = `
local now, W, L = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local w = math.floor(now / W)
local cur = tonumber(redis.call('GET', KEYS[1] .. ':' .. w) or '0')
local prev = tonumber(redis.call('GET', KEYS[1] .. ':' .. (w - 1)) or '0')
if prev * (W - (now - w * W)) + (cur + 1) * W > L * W then return 0 end
redis.call('INCR', KEYS[1] .. ':' .. w)
redis.call('PEXPIRE', KEYS[1] .. ':' .. w, W * 2)
return 1`;
redis.defineCommand("benchRelease", { lua: RAW_RELEASE, numberOfKeys: 1 });
redis.defineCommand("benchSliding", { lua: RAW_SLIDING, numberOfKeys: 1 });
const rawRedis = redis as Redis & {
  benchRelease(key: string, owner: string): Promise<number>;
  benchSliding(key: string, now: number, window: number, limit: number): Promise<number>;
};

const lockCase = (name: string, which: keyof typeof stores): Case => ({
  name,
  op: async (w) => {
    const lock = api[which].lock(`lock-${w}`, { ttl: "10s" });
    await lock.acquire();
    await lock.release();
  },
});
const rateCase = (name: string, which: keyof typeof stores): Case => ({
  name,
  op: (w) => api[which].rateLimit(`rate-${w}`, { limit: 1_000_000, window: "1m", algorithm: "sliding" }),
});

const lockResults = await interleaved([
  {
    name: "raw Redis SET NX PX + owner-checked DEL",
    op: async (w, i) => {
      const owner = `${w}:${i}`;
      await redis.set(`${ns}:raw-lock-${w}`, owner, "PX", 10_000, "NX");
      await rawRedis.benchRelease(`${ns}:raw-lock-${w}`, owner);
    },
  },
  lockCase("lock on Redis", "redis"),
  lockCase("lock on Postgres", "postgres"),
  lockCase("lock in memory", "memory"),
]);
const rateResults = await interleaved([
  {
    name: "raw Lua sliding window",
    op: (w) => rawRedis.benchSliding(`${ns}:raw-rate-${w}`, Date.now(), 60_000, 1_000_000),
  },
  rateCase("rateLimit on Redis", "redis"),
  rateCase("rateLimit on Postgres", "postgres"),
  rateCase("rateLimit in memory", "memory"),
]);

// Postgres store get/set latency, one caller at a time, vs the same statements without the store's bookkeeping.
const runtime = createRuntime({
  modules: [postgresCacheModule({ url: DATABASE_URL, caches: { c: { table: TABLE, namespace: ns } } })],
  logger: silentLogger,
});
await runtime.start();
const cache = runtime.cache("c");
const raw = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const value = { id: 42, name: "lamp", tags: ["a", "b"] };
await cache.set("k", value);
await raw.query(
  `INSERT INTO ${TABLE} (key, value, expires_at) VALUES ($1, $2, 9e15) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  [`${ns}:raw:k`, Buffer.from(`j${JSON.stringify(value)}`)],
);
const latencyCases: Array<[string, () => Promise<unknown>]> = [
  ["raw SELECT", () => raw.query(`SELECT value FROM ${TABLE} WHERE key = $1 AND expires_at > 0`, [`${ns}:raw:k`])],
  ["store get", () => cache.get("k")],
  [
    "raw INSERT … ON CONFLICT",
    () =>
      raw.query(
        `INSERT INTO ${TABLE} (key, value, expires_at) VALUES ($1, $2, 9e15)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [`${ns}:raw:k`, Buffer.from(`j${JSON.stringify(value)}`)],
      ),
  ],
  ["store set", () => cache.set("k", value)],
];
const latencies = new Map(latencyCases.map(([name]) => [name, [] as number[]]));
const OPS = quick ? 200 : 500;
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, op] of latencyCases) {
    const samples: number[] = [];
    for (let i = 0; i < OPS; i++) {
      const t = performance.now();
      await op();
      samples.push((performance.now() - t) * 1000);
    }
    latencies.get(name)!.push(median(samples));
  }
}
await runtime.stop();
await raw.end();

const med = (m: Map<string, number[]>, name: string) => median(m.get(name)!);
const rows = (m: Map<string, number[]>, base: string) =>
  [...m].map(([name, runs]) => [
    name,
    fmt(median(runs), 0),
    fmt(median(runs) / med(m, base), 2),
    runs.map((r) => fmt(r, 0)).join(" "),
  ]);
console.log(
  `machine shared with other jobs: compare ratios; ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, ${CONCURRENCY} concurrent`,
);
printTable(
  "lock acquire+release (round trips/s)",
  ["case", "median", "× raw", "rounds"],
  rows(lockResults, "raw Redis SET NX PX + owner-checked DEL"),
);
printTable(
  "rate-limit checks/s (sliding)",
  ["case", "median", "× raw", "rounds"],
  rows(rateResults, "raw Lua sliding window"),
);
printTable(
  "Postgres store latency (p50 µs, median of rounds)",
  ["case", "p50 µs", "× raw", "rounds"],
  [...latencies].map(([name, runs]) => {
    const base = name.startsWith("store get")
      ? "raw SELECT"
      : name.startsWith("store set")
        ? "raw INSERT … ON CONFLICT"
        : name;
    return [
      name,
      fmt(median(runs), 0),
      fmt(median(runs) / med(latencies, base), 2),
      runs.map((r) => fmt(r, 0)).join(" "),
    ];
  }),
);

const lockRatio = med(lockResults, "lock on Redis") / med(lockResults, "raw Redis SET NX PX + owner-checked DEL");
const rateRatio = med(rateResults, "rateLimit on Redis") / med(rateResults, "raw Lua sliding window");
const getRatio = med(latencies, "store get") / med(latencies, "raw SELECT");
const setRatio = med(latencies, "store set") / med(latencies, "raw INSERT … ON CONFLICT");
const goals = [
  { goal: `Redis lock ≥ 0.9× raw SET NX PX + DEL (${fmt(lockRatio, 2)}×)`, met: lockRatio >= 0.9 },
  { goal: `Redis rate limit ≥ 0.9× raw Lua sliding window (${fmt(rateRatio, 2)}×)`, met: rateRatio >= 0.9 },
  { goal: `Postgres store get p50 ≤ 1.15× raw SELECT (${fmt(getRatio, 2)}×)`, met: getRatio <= 1.15 },
  { goal: `Postgres store set p50 ≤ 1.15× raw INSERT … ON CONFLICT (${fmt(setRatio, 2)}×)`, met: setRatio <= 1.15 },
];
reportGoals(goals);
const file = writeResults("coordination", {
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  locks: Object.fromEntries(lockResults),
  rateLimits: Object.fromEntries(rateResults),
  postgresLatencyUs: Object.fromEntries(latencies),
  goals,
});
const palette = ["#444", "#d62728", "#1f77b4", "#2ca02c"];
const series = (m: Map<string, number[]>, prefix: string) =>
  [...m].map(([name, runs], i) => ({
    name: `${prefix}${name}`,
    points: runs.map((y, r) => [r + 1, y / 1000] as const),
    color: palette[i % palette.length]!,
    dashed: prefix !== "",
  }));
writeFileSync(
  file.replace(/\.json$/, ".svg"),
  renderLineChart({
    title: "coordination at 64 concurrent (k ops/s per round; dashed: rate limits)",
    xLabel: "round",
    yLabel: "k ops/s",
    series: [...series(lockResults, ""), ...series(rateResults, "rate: ")],
  }),
);
console.log(`\nresults: ${file} (+ .svg)`);
void percentile;
await driver.close();
redis.disconnect();
await removeBenchData(DATABASE_URL, REDIS_URL, { tables: [TABLE], keyPattern: `${ns}*` });

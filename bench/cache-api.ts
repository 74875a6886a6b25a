/**
 * The cache API side by side with its peers: getOrSet on an L1 hit (stratacache's opt-in L1 in front of Redis vs
 * bentocache, cacheable and cachified, each on its in-process layer), getOrSet on an L2 hit (stratacache without L1
 * vs a raw ioredis GET + JSON.parse), and increment throughput at 64 callers in flight (stratacache's atomic script
 * vs a raw INCR).
 *
 *   npm run bench -- cache-api [--quick]
 *
 * Cases are interleaved round by round; each reports its median (machines here are shared: compare ratios). Goals:
 * L1 hit ≥ 10× the fastest peer; L2 hit latency ≤ 1.1× raw GET+parse; increment ≥ 0.9× raw INCR. Uses REDIS_URL,
 * else the local server; each run uses its own namespace and deletes it at the end. Writes
 * bench/results/cache-api.json and bench/results/cache-api.svg (per-round throughput of every case).
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createRuntime, redisModule, silentLogger } from "../src/index.js";
import { bentoInMemory } from "./support/bentocache.js";
import { reportGoals } from "./support/goals.js";
import { fmt, printTable, writeResults } from "./support/measure.js";
import { measureThroughput, type ThroughputCase, type ThroughputResult } from "./support/measure-throughput.js";
import { loadCacheable, loadCachified } from "./support/peer-packages.js";
import { renderLineChart } from "./support/svg-line-chart.js";

const quick = process.argv.includes("--quick");
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const NS = `bench:cache-api:${process.pid}_${randomUUID().slice(0, 8)}`;
const KEYS = 1024;
const MASK = KEYS - 1;
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`);
const value = { id: 1, name: "widget", price: 10, tags: ["a", "b"] };
const rounds = quick ? 5 : 9;

async function loadPeers() {
  const [{ Cacheable }, { cachified }] = await Promise.all([loadCacheable(), loadCachified()]);
  return { Cacheable, cachified };
}

const raw = new Redis(REDIS_URL);
const runtime = createRuntime({
  modules: [
    redisModule({
      url: REDIS_URL,
      timeoutMs: 5_000,
      caches: {
        withl1: { namespace: `${NS}:l1`, ttl: "1h", l1: { ttl: "1h", capacity: 4 * KEYS } },
        plain: { namespace: `${NS}:plain`, ttl: "1h" },
      },
    }),
  ],
  logger: silentLogger,
});
await runtime.start();
const results: Record<string, ThroughputResult[]> = {};
try {
  const { Cacheable, cachified } = await loadPeers();
  const factory = async () => value;
  let misses = 0;
  const counting = async () => {
    misses++;
    return value;
  };

  // ── L1 hit ──
  const l1 = runtime.cache("withl1");
  for (const key of keys) await l1.getOrSet(key, factory);
  for (const key of keys) await l1.getOrSet(key, counting); // fills L1
  const bento = await bentoInMemory(4 * KEYS);
  const cacheable = new Cacheable();
  const cachifiedCache = new Map<string, unknown>();
  for (const key of keys) {
    await bento.getOrSet({ key, factory });
    await cacheable.getOrSet(key, factory, { ttl: "1h" });
    await cachified({ key, cache: cachifiedCache, getFreshValue: factory, ttl: 3_600_000 });
  }
  let cursor = 0;
  const l1Cases: ThroughputCase[] = [
    {
      name: "stratacache getOrSet (L1 hit)",
      run: async (ops) => {
        for (let i = 0; i < ops; i++) await l1.getOrSet(keys[cursor++ & MASK]!, counting);
      },
    },
    {
      name: "bentocache getOrSet (L1 hit)",
      run: async (ops) => {
        for (let i = 0; i < ops; i++) await bento.getOrSet({ key: keys[cursor++ & MASK]!, factory: counting });
      },
    },
    {
      name: "cacheable getOrSet (memory)",
      run: async (ops) => {
        for (let i = 0; i < ops; i++) await cacheable.getOrSet(keys[cursor++ & MASK]!, counting, { ttl: "1h" });
      },
    },
    {
      name: "cachified (Map cache)",
      run: async (ops) => {
        for (let i = 0; i < ops; i++) {
          await cachified({
            key: keys[cursor++ & MASK]!,
            cache: cachifiedCache,
            getFreshValue: counting,
            ttl: 3_600_000,
          });
        }
      },
    },
  ];
  results.l1 = await measureThroughput(l1Cases, { rounds, roundMs: quick ? 80 : 150 });
  if (misses !== 0) throw new Error(`L1 section: expected only hits, saw ${misses} loads`);

  // ── L2 hit (Redis, one caller, sequential: latency) ──
  const plain = runtime.cache("plain");
  for (const key of keys) await plain.set(key, value);
  for (const key of keys) await raw.set(`bench-raw:${NS}:${key}`, JSON.stringify(value), "PX", 3_600_000);
  const l2Cases: ThroughputCase[] = [
    {
      name: "stratacache getOrSet (L2 hit)",
      run: async (ops) => {
        for (let i = 0; i < ops; i++) await plain.getOrSet(keys[cursor++ & MASK]!, counting);
      },
    },
    {
      name: "raw ioredis GET + JSON.parse",
      run: async (ops) => {
        for (let i = 0; i < ops; i++) {
          const text = await raw.get(`bench-raw:${NS}:${keys[cursor++ & MASK]!}`);
          if (text === null) throw new Error("raw: expected a hit");
          JSON.parse(text);
        }
      },
    },
  ];
  results.l2 = await measureThroughput(l2Cases, { rounds, roundMs: quick ? 150 : 300 });
  if (misses !== 0) throw new Error(`L2 section: expected only hits, saw ${misses} loads`);

  // ── increment, 64 in flight ──
  const CONCURRENCY = 64;
  const inParallel = async (ops: number, one: (worker: number) => Promise<unknown>) => {
    const per = Math.ceil(ops / CONCURRENCY);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        for (let i = 0; i < per; i++) await one(w);
      }),
    );
  };
  const incrCases: ThroughputCase[] = [
    { name: "stratacache increment (64 in flight)", run: (ops) => inParallel(ops, (w) => plain.increment(`c:${w}`)) },
    {
      name: "raw ioredis INCR (64 in flight)",
      run: (ops) => inParallel(ops, (w) => raw.incr(`bench-raw:${NS}:c:${w}`)),
    },
  ];
  results.increment = await measureThroughput(incrCases, { rounds, roundMs: quick ? 150 : 300 });
} finally {
  await runtime.stop();
  let cursorScan = "0";
  do {
    const [next, found] = await raw.scan(cursorScan, "MATCH", `*${NS}*`, "COUNT", 1000);
    cursorScan = next;
    if (found.length > 0) await raw.del(...found);
  } while (cursorScan !== "0");
  await raw.quit();
}

const all = Object.values(results).flat();
const rate = (name: string) => all.find((r) => r.name === name)?.opsPerSec ?? Number.NaN;
for (const [section, rows] of Object.entries(results)) {
  const best = Math.max(...rows.map((r) => r.opsPerSec));
  printTable(
    `cache-api — ${section} (median of ${rounds} interleaved rounds; shared machine: compare ratios)`,
    ["case", "ops/s", "µs/op", "vs best"],
    rows.map((r) => [r.name, fmt(r.opsPerSec, 0), fmt(1e6 / r.opsPerSec, 2), `${fmt(r.opsPerSec / best, 2)}×`]),
  );
}
const ours = rate("stratacache getOrSet (L1 hit)");
const peers = ["bentocache getOrSet (L1 hit)", "cacheable getOrSet (memory)", "cachified (Map cache)"].map(rate);
const fastestPeer = Math.max(...peers);
const l2Ratio = rate("raw ioredis GET + JSON.parse") / rate("stratacache getOrSet (L2 hit)"); // latency ratio
const incrRatio = rate("stratacache increment (64 in flight)") / rate("raw ioredis INCR (64 in flight)");
const goals = [
  { goal: `getOrSet L1 hit ≥ 10× the fastest peer (${fmt(ours / fastestPeer, 1)}×)`, met: ours >= 10 * fastestPeer },
  { goal: `getOrSet L2 hit latency ≤ 1.1× raw GET+parse (${fmt(l2Ratio, 2)}×)`, met: l2Ratio <= 1.1 },
  { goal: `increment ≥ 0.9× raw INCR throughput at 64 in flight (${fmt(incrRatio, 2)}×)`, met: incrRatio >= 0.9 },
];
reportGoals(goals);
const file = writeResults("cache-api", { quick, rounds, results, goals });
const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const svg = renderLineChart({
  title: "cache-api: throughput per round (ops/s, thousands)",
  xLabel: "round",
  yLabel: "k ops/s",
  series: all.map((r, i) => ({
    name: r.name,
    color: palette[i % palette.length] as string,
    points: r.rounds.map((v, round) => [round + 1, v / 1_000] as const),
  })),
  width: 900,
});
writeFileSync(join(file, "..", "cache-api.svg"), svg);
console.log(`\nresults: ${file} (and cache-api.svg)`);

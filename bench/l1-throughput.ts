/**
 * L1 throughput: our LRU store, our W-TinyLFU store, raw lru-cache and bentocache (memory L1 only),
 * side by side in one process, interleaved round by round; medians of ≥ 5 rounds, ratios vs raw lru-cache.
 * Writes bench/results/l1-throughput.json.
 *
 *   npx tsx bench/l1-throughput.ts            # 9 rounds
 *   npx tsx bench/l1-throughput.ts --quick    # 5 short rounds
 *   npm run bench -- l1-throughput --repeat 3 # 3 whole runs, each in a fresh process; goals on their medians
 *
 * Workloads (capacity 10,000 everywhere; keys precomputed, Zipf s = 0.99):
 * - "get hit": lookups over 10,000 resident keys — every lookup hits.
 * - "read-through": get, and set on a miss, over 100,000 keys — roughly 60-70% hits, so evictions and
 *   admissions are part of it.
 * - "query.get L1 hit": the whole library path — `ctx.document.query(spec).get(id)` served from L1 (PGlite and
 *   the in-process L2 behind it, never reached) — over 1,000 resident documents, against raw lru-cache `get` and
 *   bentocache `getOrSet` on the same keys. Both stratacache and bentocache pay for a promise per call.
 * - "query.get L1 hit, observed": the same lru path with nobody listening, with a diagnostics_channel subscriber
 *   on every stratacache channel, and with the OpenTelemetry adapter (SDK in-memory reader and exporter), each
 *   attached only during its own rounds. Goal: the OTel adapter costs ≤ 30% of the unobserved hit path.
 * - "query.get L1 hit, one policy per process": tinylfu ÷ lru with each policy in a child process of its own, each
 *   against raw lru-cache in that process, in pairs (support/policy-pairs.ts). The goal (≥ 0.9×) is judged on it: in
 *   one process both policies share `query.get`, whose store calls then go polymorphic. The in-process ratio is
 *   still reported (`tinyOverLruShared`), not judged.
 * Also writes bench/results/l1-throughput.svg (M ops/s per case).
 *
 * The goals' ratios sit near their bounds and move between runs on a small shared machine (one run's V8 may optimise
 * one policy's path worse: a single run once read tinylfu ÷ lru as 1.72), so `--repeat N` judges them on the medians
 * of N runs, each in a fresh process (support/repeat-l1-throughput.ts).
 */

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { coarseNow } from "../src/kernel/coarse-clock.js";
import type { L1Store } from "../src/l1/l1-store.js";
import { LruL1Store } from "../src/l1/lru-l1-store.js";
import { TinyLfuL1Store } from "../src/l1/tiny-lfu-l1-store.js";
import { bentoInMemory } from "./support/bentocache.js";
import { repeatIfAsked } from "./support/fresh-run.js";
import { reportGoals } from "./support/goals.js";
import { judgeL1ThroughputGoals, type L1ThroughputRatios } from "./support/l1-throughput-goals.js";
import { lruCacheCase } from "./support/lru-cache-case.js";
import {
  formatTable,
  measureThroughput,
  pairedRatio,
  type ThroughputCase,
  type ThroughputResult,
} from "./support/measure-throughput.js";
import { attach, collectMetrics, OBSERVERS } from "./support/observers.js";
import { policyPairs } from "./support/policy-pairs.js";
import { QUERY_GET_DOCS, queryGetCase, rawDocsCase } from "./support/query-get-case.js";
import { repeatL1Throughput } from "./support/repeat-l1-throughput.js";
import { writeBarChart } from "./support/svg-bar-chart.js";
import { REPO_ROOT } from "./support/traces.js";
import { zipfKeys } from "./support/zipf-keys.js";

const CAPACITY = 10_000;
const KEY_COUNT = 1 << 20;
const MASK = KEY_COUNT - 1;
await repeatIfAsked(process.argv.slice(2), repeatL1Throughput);
const quick = process.argv.includes("--quick");
const options = quick ? { rounds: 5, roundMs: 60 } : { rounds: 9, roundMs: 150 };

interface Value {
  readonly id: number;
}

const hitKeys = zipfKeys({ count: KEY_COUNT, distinct: CAPACITY, seed: 7 });
const mixedKeys = zipfKeys({ count: KEY_COUNT, distinct: 10 * CAPACITY, seed: 11 });
const value: Value = Object.freeze({ id: 1 });

/** A sync case over a store with our port; `cursor` carries on where the last round stopped. */
function storeCase(
  name: string,
  store: L1Store<Value>,
  keys: ReadonlyArray<string>,
  readThrough: boolean,
): ThroughputCase {
  let cursor = 0;
  return {
    name,
    run: readThrough
      ? (ops) => {
          for (let i = 0; i < ops; i++) {
            const key = keys[cursor++ & MASK]!;
            if (store.get(key) === undefined) store.set(key, value);
          }
        }
      : (ops) => {
          let found = 0;
          for (let i = 0; i < ops; i++) if (store.get(keys[cursor++ & MASK]!) !== undefined) found++;
          if (found !== ops) throw new Error(`${name}: expected only hits`);
        },
  };
}

/**
 * bentocache configured as fairly as it allows for an L1 hit: one store, memory L1 only (no L2, no bus),
 * `serialize: false` (values kept by reference, like ours), same capacity, a long ttl so nothing expires.
 */
async function bentoCase(
  keys: ReadonlyArray<string>,
  prefill: ReadonlyArray<string>,
  capacity = CAPACITY,
): Promise<ThroughputCase> {
  const bento = await bentoInMemory(capacity);
  let misses = 0;
  const factory = (): Value => {
    misses++;
    return value;
  };
  for (const key of prefill) await bento.set({ key, value });
  let cursor = 0;
  return {
    name: "bentocache getOrSet (L1 hit)",
    run: async (ops) => {
      for (let i = 0; i < ops; i++) await bento.getOrSet({ key: keys[cursor++ & MASK]!, factory });
      if (misses !== 0) throw new Error("bentocache: expected only hits");
    },
  };
}

/**
 * The stores are built as the runtime builds a document's L1: with an L1 ttl and the coarse clock, so every hit checks
 * expiry. Built without a ttl, the store sections trained V8 on a branch the library never takes; when the
 * query.get sections then took it, about half the runs re-optimised the shared lookup into a slower shape (query.get
 * lru ÷ lru-cache 0.24–0.30 instead of 0.35–0.37; 6 runs of each, --quick). lru-cache keeps no ttl: the stricter
 * baseline.
 */
const STORE_OPTIONS = { capacity: CAPACITY, ttlMs: 3_600_000, now: coarseNow } as const;

function prefilled<S extends L1Store<Value>>(store: S, keys: ReadonlyArray<string>): S {
  for (const key of keys) store.set(key, value);
  return store;
}

const resident = Array.from({ length: CAPACITY }, (_, i) => `key:${i}`);

interface Section {
  readonly workload: string;
  readonly results: ThroughputResult[];
}
const sections: Section[] = [];

const lruPath = await queryGetCase("lru");
const tinyPath = await queryGetCase("tinylfu");
sections.push({
  workload: `query.get L1 hit (${QUERY_GET_DOCS} docs)`,
  results: await measureThroughput(
    [
      rawDocsCase(lruPath.idOf),
      lruPath.testCase,
      tinyPath.testCase,
      await bentoCase(lruPath.idOf, [...new Set(lruPath.idOf)], 2 * QUERY_GET_DOCS),
    ],
    options,
  ),
});
// The lru hit path again, with each observer attached only while its own case runs.
sections.push({
  workload: `query.get L1 hit, observed (${QUERY_GET_DOCS} docs)`,
  results: await measureThroughput(
    [
      rawDocsCase(lruPath.idOf),
      ...OBSERVERS.map(
        (kind): ThroughputCase => ({
          name: `query.get L1 hit (lru, ${kind})`,
          run: async (ops) => {
            const detach = attach(kind);
            try {
              await lruPath.testCase.run(ops);
            } finally {
              detach();
            }
          },
        }),
      ),
    ],
    options,
  ),
});
// The stores on their own, after the library paths above: measured first, their synthetic sync loops sometimes left
// V8 optimising the lru query.get path at about half its speed for the rest of the process (about half the runs;
// never with these sections moved here), which made the tinylfu ÷ lru ratio a coin toss. Reported first all the same.
const hitSection: Section = {
  workload: "get hit (10k resident keys)",
  results: await measureThroughput(
    [
      lruCacheCase(hitKeys, { max: CAPACITY, prefill: resident }),
      storeCase("LruL1Store", prefilled(new LruL1Store<Value>(STORE_OPTIONS), resident), hitKeys, false),
      storeCase("TinyLfuL1Store", prefilled(new TinyLfuL1Store<Value>(STORE_OPTIONS), resident), hitKeys, false),
      await bentoCase(hitKeys, resident),
    ],
    options,
  ),
};
const readThroughSection: Section = {
  workload: "read-through get/set (100k keys)",
  results: await measureThroughput(
    [
      lruCacheCase(mixedKeys, { max: CAPACITY, prefill: [], readThrough: true }),
      storeCase("LruL1Store", new LruL1Store<Value>(STORE_OPTIONS), mixedKeys, true),
      storeCase("TinyLfuL1Store", new TinyLfuL1Store<Value>(STORE_OPTIONS), mixedKeys, true),
    ],
    options,
  ),
};
sections.unshift(hitSection, readThroughSection);
await collectMetrics();
lruPath.check();
tinyPath.check();
await lruPath.stop();
await tinyPath.stop();

// tinylfu ÷ lru with each policy in a process of its own (see support/policy-pairs.ts): what the goal judges.
const pairs = await policyPairs(quick ? 2 : 4, options); // an even count: each policy first as often
console.log(
  `\nquery.get L1 hit, one policy per process (${pairs.pairs.length} pairs; each process against raw lru-cache)\n${formatTable(
    ["pair", "lru ÷ lru-cache", "tinylfu ÷ lru-cache", "tinylfu ÷ lru"],
    pairs.pairs.map((p, i) => [
      `${i + 1}`,
      p.lru.vsLruCache.toFixed(3),
      p.tinylfu.vsLruCache.toFixed(3),
      p.tinyOverLru.toFixed(3),
    ]),
  )}\nmedian tinylfu ÷ lru: ${pairs.tinyOverLru.toFixed(3)}\n`,
);

const rows: string[][] = [];
const json: Array<Record<string, unknown>> = [];
for (const section of sections) {
  const baseline = section.results.find((r) => r.name === "lru-cache (raw)")!.opsPerSec;
  for (const r of section.results) {
    const ratio = r.opsPerSec / baseline;
    rows.push([section.workload, r.name, (r.opsPerSec / 1e6).toFixed(2), `${(ratio * 100).toFixed(0)}%`]);
    json.push({
      workload: section.workload,
      case: r.name,
      opsPerSec: Math.round(r.opsPerSec),
      vsLruCache: ratio,
      rounds: r.rounds.map(Math.round),
      opsPerRound: r.opsPerRound,
    });
  }
}
console.log(formatTable(["workload", "case", "M ops/s (median)", "vs lru-cache"], rows));

const ratioOf = (workload: string, name: string) =>
  json.find((r) => r.case === name && String(r.workload).startsWith(workload))!.vsLruCache as number;
const roundsOf = (workload: string, name: string) =>
  json.find((r) => r.case === name && String(r.workload).startsWith(workload))!.rounds as number[];
/** Case `a` over case `b` of one workload, as the median of their per-round ratios (see pairedRatio). */
const paired = (workload: string, a: string, b: string) => pairedRatio(roundsOf(workload, a), roundsOf(workload, b));
const observedRatio = (kind: string) =>
  paired("query.get L1 hit, observed", `query.get L1 hit (lru, ${kind})`, "query.get L1 hit (lru, no subscriber)");
// bentocache is the only peer measured here, so it stands for "the fastest peer".
const bento = ratioOf("query.get", "bentocache getOrSet (L1 hit)");
const lruGet = ratioOf("query.get", "query.get L1 hit (lru)");
const tinyGet = ratioOf("query.get", "query.get L1 hit (tinylfu)");
const ratios: L1ThroughputRatios = {
  tinyHitVsLruCache: ratioOf("get hit", "TinyLfuL1Store"),
  tinyMixedVsLruCache: ratioOf("read-through", "TinyLfuL1Store"),
  lruGetVsLruCache: lruGet,
  tinyGetVsLruCache: tinyGet,
  lruGetVsBento: lruGet / bento,
  tinyGetVsBento: tinyGet / bento,
  tinyOverLru: pairs.tinyOverLru,
  tinyOverLruShared: paired("query.get", "query.get L1 hit (tinylfu)", "query.get L1 hit (lru)"),
  diagnosticsOverUnobserved: observedRatio("diagnostics subscriber"),
  otelOverUnobserved: observedRatio("OTel adapter"),
};
console.log(
  `query.get L1 hit, tinylfu ÷ lru with both policies in one process (reported, not judged): ${ratios.tinyOverLruShared.toFixed(3)}`,
);
const goals = judgeL1ThroughputGoals(ratios);
const met = reportGoals(goals);

const resultsDir = path.join(REPO_ROOT, "bench/results");
await mkdir(resultsDir, { recursive: true });
await writeFile(
  path.join(resultsDir, "l1-throughput.json"),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), node: process.version, quick, capacity: CAPACITY, rows: json, policyPairs: pairs.pairs, ratios, goals, goalMet: met }, null, 2)}\n`,
);
writeBarChart("l1-throughput", {
  title: `L1 throughput — medians of ${options.rounds} rounds (higher is better)`,
  unit: "M ops/s",
  bars: json.map((r) => ({ group: String(r.workload), label: String(r.case), value: (r.opsPerSec as number) / 1e6 })),
});
console.log("Wrote bench/results/l1-throughput.json and bench/results/l1-throughput.svg.");

/**
 * L1 policy simulator: replays the shared research traces through our LRU store, our W-TinyLFU store
 * (adaptive, and with the window fixed at 1% for comparison with published fixed-window figures) and
 * Bélády's optimum, at the sizes of the reference figures (REFERENCE below) and a few more; prints a table against
 * the published figures, writes bench/results/l1-policies.json and one SVG chart per trace.
 *
 * The shared traces are followed by recency-biased synthetic ones (bench/support/synthetic-traces.ts), judged by the
 * same goal: within 1 point of max(LRU, static W-TinyLFU), never more than 1 point below LRU.
 *
 * "before" is the adaptive policy before the LRU guard (the classic climber alone), read from
 * bench/results/l1-policies-before.json (main at 3ee6700, same seeds and traces: deterministic).
 *
 *   npm run bench -- l1-policies            # every trace, every size (~15 s)
 *   npm run bench -- l1-policies --quick    # the sizes REFERENCE gives figures for, synthetic traces at 500 and 2000
 */

import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { L1Store } from "../src/l1/l1-store.js";
import { LruL1Store } from "../src/l1/lru-l1-store.js";
import { TinyLfuL1Store } from "../src/l1/tiny-lfu-l1-store.js";
import { optimalHits } from "./support/belady.js";
import { reportGoals } from "./support/goals.js";
import { renderLineChart } from "./support/svg-line-chart.js";
import { SYNTHETIC_TRACES, syntheticTrace } from "./support/synthetic-traces.js";
import { loadTrace, REPO_ROOT } from "./support/traces.js";

/** Reference hit ratios, percent. `fixed`: published W-TinyLFU, 1% window; `adaptive`: independent simulator. */
interface Reference {
  readonly lru: number;
  readonly fixed?: number;
  readonly adaptive?: number;
  readonly arc?: number;
  readonly opt: number;
}

const REFERENCE: Readonly<Record<string, Readonly<Record<number, Reference>>>> = {
  gli: {
    500: { lru: 0.95, fixed: 33.08, adaptive: 33.2, arc: 1.38, opt: 34.26 },
    1000: { lru: 11.21, fixed: 50.57, adaptive: 50.8, arc: 21.3, opt: 53.13 },
    1500: { lru: 36.56, fixed: 53.57, adaptive: 53.6, arc: 50.44, opt: 57.96 },
  },
  OLTP: {
    250: { lru: 16.47, fixed: 22.76, adaptive: 24.5, arc: 21.46, opt: 38.43 },
    1000: { lru: 32.83, fixed: 35.3, adaptive: 40.1, arc: 39.06, opt: 53.61 },
    2000: { lru: 42.47, fixed: 41.67, adaptive: 45.9, arc: 46.17, opt: 60.4 },
  },
  multi2: { 1000: { lru: 47.8, adaptive: 56.4, opt: 62.16 } },
  loop: { 500: { lru: 0, adaptive: 48.7, opt: 49.36 } },
  "2_pools": { 1000: { lru: 54.41, adaptive: 54.4, opt: 68.52 } },
  ps: { 500: { lru: 48.55, adaptive: 57, opt: 58.1 } },
};

/** Sizes per trace: the referenced ones plus a few around them. */
const SIZES: Readonly<Record<string, ReadonlyArray<number>>> = {
  gli: [250, 500, 1000, 1500, 2000],
  OLTP: [250, 500, 1000, 2000, 4000],
  multi2: [250, 500, 1000, 2000, 4000],
  loop: [250, 500, 750, 1000, 1250],
  "2_pools": [250, 500, 1000, 2000, 4000],
  ps: [250, 500, 1000, 2000],
  cs: [250, 500, 1000],
  cpp: [250, 500, 1000],
  ...Object.fromEntries(Object.keys(SYNTHETIC_TRACES).map((name) => [name, [250, 500, 1000, 2000]])),
};

/** Goal: at least published W-TinyLFU − 1 point (fixed, else adaptive), and LRU − 1. */
const TOLERANCE = 1;

interface Row {
  readonly trace: string;
  readonly size: number;
  readonly accesses: number;
  readonly lru: number;
  /** Mean over SEEDS, and the worst seed (which the goal is judged on). */
  readonly tinyLfu: number;
  readonly tinyLfuWorst: number;
  readonly tinyLfuFixed: number;
  /** The adaptive policy before the LRU guard, worst seed (bench/results/l1-policies-before.json). */
  readonly before?: number;
  readonly opt: number;
  readonly published?: Reference;
  /** The W-TinyLFU figure to reach (published − 1), when one is published. */
  readonly target?: number;
  readonly met: boolean;
  readonly shortfall: string[];
}

/** Fixed seeds: the simulation is reproducible run to run (the stores randomize both by default). */
const SEED = 0x5eed;
const SEEDS = [SEED, 0x1234567, 0x7654321];

const quick = process.argv.includes("--quick");
const traceNames = quick ? [...Object.keys(REFERENCE), ...Object.keys(SYNTHETIC_TRACES)] : Object.keys(SIZES);
const QUICK_SYNTHETIC_SIZES = [500, 2000];
const resultsDir = path.join(REPO_ROOT, "bench/results");
const before = await readBefore();

const rows: Row[] = [];
const started = performance.now();
for (const name of traceNames) {
  const trace = name in SYNTHETIC_TRACES ? syntheticTrace(name) : await loadTrace(name);
  const keys = internKeys(trace.keys);
  const sizes = !quick
    ? (SIZES[name] ?? [])
    : name in SYNTHETIC_TRACES
      ? QUICK_SYNTHETIC_SIZES
      : Object.keys(REFERENCE[name] ?? {}).map(Number);
  for (const size of sizes) {
    const lru = hitRatio(new LruL1Store<number>({ capacity: size }), keys);
    // Hash seeds move the adaptive result by a few tenths: report the mean and judge the worst.
    const runs = SEEDS.map((seed) =>
      hitRatio(new TinyLfuL1Store<number>({ capacity: size, seed, random: seededRandom(seed) }), keys),
    );
    const tinyLfu = runs.reduce((a, b) => a + b, 0) / runs.length;
    const tinyLfuWorst = Math.min(...runs);
    const tinyLfuFixed = hitRatio(
      new TinyLfuL1Store<number>({ capacity: size, seed: SEED, random: seededRandom(SEED), adaptive: false }),
      keys,
    );
    const opt = (100 * optimalHits(trace.keys, size)) / keys.length;
    const published = REFERENCE[name]?.[size];
    const goal = published?.fixed ?? published?.adaptive;
    const target = goal === undefined ? undefined : goal - TOLERANCE;
    const shortfall: string[] = [];
    if (target !== undefined && tinyLfuWorst < target) {
      shortfall.push(`worst seed below published W-TinyLFU − 1 (${fmt(target)})`);
    }
    if (tinyLfuWorst < lru - TOLERANCE) shortfall.push(`worst seed below LRU − 1 (${fmt(lru - TOLERANCE)})`);
    // Goal: within 1 point of max(LRU, static W-TinyLFU), both measured here on the same trace.
    const best = Math.max(lru, tinyLfuFixed);
    if (tinyLfuWorst < best - TOLERANCE) {
      shortfall.push(`worst seed below max(LRU, static W-TinyLFU) − 1 (${fmt(best - TOLERANCE)})`);
    }
    rows.push({
      trace: name,
      size,
      accesses: keys.length,
      lru,
      tinyLfu,
      tinyLfuWorst,
      tinyLfuFixed,
      ...(before.has(`${name}@${size}`) ? { before: before.get(`${name}@${size}`)! } : {}),
      opt,
      ...(published ? { published } : {}),
      ...(target === undefined ? {} : { target }),
      met: shortfall.length === 0,
      shortfall,
    });
  }
}
const elapsed = (performance.now() - started) / 1000;

printTable(rows);
const belowBest = rows.filter((r) => r.tinyLfuWorst < Math.max(r.lru, r.tinyLfuFixed) - TOLERANCE);
const belowLru = rows.filter((r) => r.tinyLfuWorst < r.lru - TOLERANCE);
const worst = (list: ReadonlyArray<Row>, of: (r: Row) => number): string => {
  const sorted = [...list].sort((a, b) => of(a) - of(b));
  const r = sorted[0];
  return r === undefined ? "" : `; worst ${r.trace} @ ${r.size}: ${signed(of(r))}`;
};
const goals = [
  ...rows.map((row) => ({
    goal: `W-TinyLFU hit ratio on ${row.trace} @ ${row.size}: worst seed ${fmt(row.tinyLfuWorst)} (LRU ${fmt(row.lru)}, static ${fmt(row.tinyLfuFixed)})${
      row.met ? "" : ` — ${row.shortfall.join("; ")}`
    }`,
    met: row.met,
  })),
  {
    goal: `within 1 point of max(LRU, static W-TinyLFU) on every trace and size: ${rows.length - belowBest.length} of ${rows.length}${worst(rows, (r) => r.tinyLfuWorst - Math.max(r.lru, r.tinyLfuFixed))}`,
    met: belowBest.length === 0,
  },
  {
    goal: `never > 1 point below LRU: ${rows.length - belowLru.length} of ${rows.length}${worst(rows, (r) => r.tinyLfuWorst - r.lru)}`,
    met: belowLru.length === 0,
  },
];
const goalMet = reportGoals(goals);
console.log(`(${rows.length} trace × size points, ${elapsed.toFixed(1)} s)`);

await mkdir(resultsDir, { recursive: true });
await writeFile(
  path.join(resultsDir, "l1-policies.json"),
  `${JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      node: process.version,
      quick,
      unit: "hit ratio, percent",
      columns: {
        lru: "LruL1Store (lru-cache)",
        tinyLfu: "TinyLfuL1Store, adaptive window (default); mean over 3 hash seeds",
        tinyLfuWorst: "the same, worst of the 3 seeds (goals are judged on this)",
        tinyLfuFixed: "TinyLfuL1Store, window fixed at 1%",
        before: "the adaptive policy before the LRU guard, worst seed (l1-policies-before.json)",
        opt: "Bélády's optimum, exact",
        published: "DESIGN.md §6 reference figures",
      },
      rows,
      goals,
      goalMet,
    },
    null,
    2,
  )}\n`,
);
if (!quick) {
  for (const name of traceNames) {
    const traceRows = rows.filter((row) => row.trace === name);
    const published = traceRows.filter((row) => row.published?.fixed ?? row.published?.adaptive);
    const svg = renderLineChart({
      title: `${name}: hit ratio vs cache size`,
      xLabel: "cache size (entries)",
      yLabel: "hit ratio (%)",
      series: [
        { name: "OPT (Bélády)", color: "#888", dashed: true, points: traceRows.map((r) => [r.size, r.opt]) },
        { name: "W-TinyLFU (ours)", color: "#d62728", points: traceRows.map((r) => [r.size, r.tinyLfu]) },
        {
          name: "W-TinyLFU before (climber only)",
          color: "#9467bd",
          dashed: true,
          points: traceRows.filter((r) => r.before !== undefined).map((r) => [r.size, r.before!]),
        },
        {
          name: "W-TinyLFU fixed 1%",
          color: "#ff9896",
          dashed: true,
          points: traceRows.map((r) => [r.size, r.tinyLfuFixed]),
        },
        { name: "LRU", color: "#1f77b4", points: traceRows.map((r) => [r.size, r.lru]) },
        {
          name: "W-TinyLFU published",
          color: "#2ca02c",
          pointsOnly: true,
          points: published.map((r) => [r.size, (r.published?.fixed ?? r.published?.adaptive)!]),
        },
      ],
    });
    await writeFile(path.join(resultsDir, `l1-policies-${name}.svg`), svg);
  }
}
console.log(`Wrote bench/results/l1-policies.json${quick ? "" : " and bench/results/l1-policies-<trace>.svg"}.`);

function hitRatio(store: L1Store<number>, keys: ReadonlyArray<string>): number {
  let hits = 0;
  for (const key of keys) {
    if (store.get(key) !== undefined) hits++;
    else store.set(key, 1);
  }
  return (100 * hits) / keys.length;
}

/** One string per distinct key, shared by all its accesses, so key conversion is not part of the replay. */
function internKeys(keys: Float64Array): string[] {
  const strings = new Map<number, string>();
  const out = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let s = strings.get(key);
    if (s === undefined) {
      s = String(key);
      strings.set(key, s);
    }
    out[i] = s;
  }
  return out;
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

async function readBefore(): Promise<Map<string, number>> {
  const text = await readFile(path.join(resultsDir, "l1-policies-before.json"), "utf8").catch(() => undefined);
  if (text === undefined) return new Map();
  const rows = (JSON.parse(text) as { rows: Array<{ trace: string; size: number; tinyLfuWorst: number }> }).rows;
  return new Map(rows.map((r) => [`${r.trace}@${r.size}`, r.tinyLfuWorst]));
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}

function fmt(value: number | undefined): string {
  return value === undefined ? "—" : value.toFixed(2);
}

function printTable(table: ReadonlyArray<Row>): void {
  const header = [
    "trace",
    "size",
    "LRU",
    "static 1%",
    "before",
    "after",
    "worst",
    "Δ before",
    "vs max(LRU,static)",
    "vs LRU",
    "OPT",
    "pub fixed",
    "pub adaptive",
    "ARC",
    "target",
    "",
  ];
  const lines = table.map((r) => [
    r.trace,
    String(r.size),
    fmt(r.lru),
    fmt(r.tinyLfuFixed),
    fmt(r.before),
    fmt(r.tinyLfu),
    fmt(r.tinyLfuWorst),
    r.before === undefined ? "—" : signed(r.tinyLfuWorst - r.before),
    signed(r.tinyLfuWorst - Math.max(r.lru, r.tinyLfuFixed)),
    signed(r.tinyLfuWorst - r.lru),
    fmt(r.opt),
    fmt(r.published?.fixed),
    fmt(r.published?.adaptive),
    fmt(r.published?.arc),
    fmt(r.target),
    r.met ? "ok" : "MISS",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: ReadonlyArray<string>): string =>
    cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(render(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(render(line));
}

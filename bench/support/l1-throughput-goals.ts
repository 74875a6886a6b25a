/**
 * The goals bench/l1-throughput.ts judges, as data: each names one ratio a run measures and its lower bound. One list
 * for a single run's verdicts and for the verdicts on the medians of repeated runs (`--repeat`), so both judge the
 * same thing.
 */
import type { Goal } from "./goals.js";
import { fmt } from "./measure.js";

/** What one run measures for the goals (each a ratio of throughputs: higher is better). */
export interface L1ThroughputRatios {
  /** Our W-TinyLFU store ÷ raw lru-cache: every lookup a hit; get and set over 100k keys. */
  readonly tinyHitVsLruCache: number;
  readonly tinyMixedVsLruCache: number;
  /** `query.get` served from L1 ÷ raw lru-cache `get`, per policy. */
  readonly lruGetVsLruCache: number;
  readonly tinyGetVsLruCache: number;
  /** `query.get` served from L1 ÷ bentocache `getOrSet` (the only peer measured here), per policy. */
  readonly lruGetVsBento: number;
  readonly tinyGetVsBento: number;
  /**
   * `query.get` with W-TinyLFU ÷ with LRU, each policy in a process of its own (median over pairs of processes; see
   * support/policy-pairs.ts).
   */
  readonly tinyOverLru: number;
  /**
   * The same with both policies in one process (median of per-round ratios): both paths then polymorphic. Reported,
   * not judged: it measures running both policies at once.
   */
  readonly tinyOverLruShared: number;
  /** The lru hit path with a diagnostics_channel subscriber, and with the OTel adapter, ÷ unobserved. */
  readonly diagnosticsOverUnobserved: number;
  readonly otelOverUnobserved: number;
}

interface L1ThroughputGoal {
  readonly text: string;
  readonly ratio: keyof L1ThroughputRatios;
  /** Met when the ratio is at least this. */
  readonly atLeast: number;
  /** Printed as a percentage rather than a factor. */
  readonly percent?: boolean;
}

export const L1_THROUGHPUT_GOALS: ReadonlyArray<L1ThroughputGoal> = [
  { text: "W-TinyLFU store, get hit ≥ 50% of lru-cache", ratio: "tinyHitVsLruCache", atLeast: 0.5, percent: true },
  {
    text: "W-TinyLFU store, read-through ≥ 50% of lru-cache",
    ratio: "tinyMixedVsLruCache",
    atLeast: 0.5,
    percent: true,
  },
  { text: "query.get L1 hit (lru) ≥ 30% of lru-cache", ratio: "lruGetVsLruCache", atLeast: 0.3, percent: true },
  { text: "query.get L1 hit (lru) ≥ 2× the fastest peer, bentocache", ratio: "lruGetVsBento", atLeast: 2 },
  { text: "query.get L1 hit (tinylfu) ≥ 30% of lru-cache", ratio: "tinyGetVsLruCache", atLeast: 0.3, percent: true },
  { text: "query.get L1 hit (tinylfu) ≥ 2× the fastest peer, bentocache", ratio: "tinyGetVsBento", atLeast: 2 },
  {
    text: "query.get L1 hit: tinylfu ≥ 0.9× lru, one policy per process",
    ratio: "tinyOverLru",
    atLeast: 0.9,
  },
  {
    text: "query.get L1 hit with a diagnostics subscriber ≥ 0.7× unobserved",
    ratio: "diagnosticsOverUnobserved",
    atLeast: 0.7,
  },
  {
    text: "query.get L1 hit with the OTel adapter ≥ 0.7× unobserved, i.e. metrics cost ≤ 30%",
    ratio: "otelOverUnobserved",
    atLeast: 0.7,
  },
];

/** Every goal's verdict on `ratios`; `suffix` says what the figures are, e.g. ", median of 3 runs". */
export function judgeL1ThroughputGoals(ratios: L1ThroughputRatios, suffix = ""): Goal[] {
  return L1_THROUGHPUT_GOALS.map((g) => {
    const value = ratios[g.ratio];
    const shown = (digits: number) => (g.percent ? `${fmt(value * 100, digits - 2)}%` : `${fmt(value, digits)}×`);
    const bound = (digits: number) =>
      g.percent ? `${fmt(g.atLeast * 100, digits - 2)}%` : `${fmt(g.atLeast, digits)}×`;
    // One more digit when rounding would print the bound itself for a value just under it ("30%", missed).
    const digits = shown(2) === bound(2) && value < g.atLeast ? 3 : 2;
    return { goal: `${g.text} (${shown(digits)}${suffix})`, met: value >= g.atLeast };
  });
}

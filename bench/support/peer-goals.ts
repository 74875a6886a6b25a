/**
 * Issue 19's goals for bench/peers.ts, as data: each names a workload row, what the ratio is taken against (the
 * fastest peer or raw) and its bound. One list for a single run's verdicts and for the verdicts over repeated runs
 * (`--repeat`), so both judge the same thing.
 */
import type { Goal } from "./goals.js";
import { fmt } from "./measure.js";

/** What a goal reads of one workload row: stratacache's cost ÷ the fastest peer's, or ÷ raw's (< 1 is ahead). */
export interface PeerRatios {
  readonly vsFastest: number;
  readonly vsRaw: number;
}

export interface PeerGoal {
  readonly text: string;
  readonly workload: string;
  readonly against: keyof PeerRatios;
  /** Met when the ratio is at most this. */
  readonly limit: number;
}

export const PEER_GOALS: ReadonlyArray<PeerGoal> = [
  { text: "miss p50 ≤ 1.0× the fastest peer", workload: "miss p50", against: "vsFastest", limit: 1.0 },
  { text: "miss p50 ≤ 1.3× raw SELECT + SET", workload: "miss p50", against: "vsRaw", limit: 1.3 },
  { text: "L2 hit p50 ≤ 1.1× raw GET + JSON.parse", workload: "L2 hit p50", against: "vsRaw", limit: 1.1 },
  {
    text: "L2 hit, 64 concurrent: keep the lead, cost ≤ 1.0× the fastest peer",
    workload: "L2 hit, 64 concurrent",
    against: "vsFastest",
    limit: 1,
  },
  {
    text: "getMany(100) warm ≤ 1.2× raw MGET + parse",
    workload: "getMany(100) warm p50",
    against: "vsRaw",
    limit: 1.2,
  },
  {
    text: "getMany(100) cold ≤ 1.15× raw = ANY + pipelined SET",
    workload: "getMany(100) cold p50",
    against: "vsRaw",
    limit: 1.15,
  },
  {
    text: "getMany(100) cold ≤ 1.0× the fastest peer",
    workload: "getMany(100) cold p50",
    against: "vsFastest",
    limit: 1.0,
  },
  {
    text: "heap per 100k L1 entries ≤ 1.1× lru-cache holding the rows",
    workload: "heap per 100k L1 entries",
    against: "vsRaw",
    limit: 1.1,
  },
  { text: "L1 hit ≥ 2× the fastest peer, i.e. cost ≤ 0.5×", workload: "L1 hit", against: "vsFastest", limit: 0.5 },
];

/** The verdict of every goal on `rows` (by workload name); `suffix` says what the ratio is, e.g. "median of 3 runs". */
export function judgePeerGoals(rows: (workload: string) => PeerRatios, suffix = ""): Goal[] {
  return PEER_GOALS.map((g) => {
    const ratio = rows(g.workload)[g.against];
    // A third digit when two would print the bound itself for a ratio just over it ("1.10×", missed).
    const digits = fmt(ratio, 2) === fmt(g.limit, 2) && ratio > g.limit ? 3 : 2;
    return { goal: `${g.text} (${fmt(ratio, digits)}×${suffix})`, met: ratio <= g.limit };
  });
}

/**
 * The benchmarks' verdicts say what was measured: a goal is judged on its bound, a ratio that rounds to the bound
 * but misses it is printed with one more digit, and `--repeat` refuses a count that cannot give a median of runs.
 */
import { describe, expect, it } from "vitest";
import { repeatArgument } from "../../bench/support/fresh-run.js";
import { judgeL1ThroughputGoals, type L1ThroughputRatios } from "../../bench/support/l1-throughput-goals.js";
import { judgePeerGoals } from "../../bench/support/peer-goals.js";

const passing: L1ThroughputRatios = {
  tinyHitVsLruCache: 0.61,
  tinyMixedVsLruCache: 0.67,
  lruGetVsLruCache: 0.36,
  tinyGetVsLruCache: 0.35,
  lruGetVsBento: 80,
  tinyGetVsBento: 73,
  tinyOverLru: 0.96,
  tinyOverLruShared: 0.88,
  diagnosticsOverUnobserved: 0.77,
  otelOverUnobserved: 0.71,
};

describe("l1-throughput goals", () => {
  it("judges every ratio against its lower bound", () => {
    const goals = judgeL1ThroughputGoals(passing);
    // Every ratio but the one-process tinylfu ÷ lru, which is reported and not judged (below its bound here).
    expect(goals).toHaveLength(Object.keys(passing).length - 1);
    expect(goals.every((g) => g.met)).toBe(true);
    expect(judgeL1ThroughputGoals({ ...passing, tinyOverLruShared: 0.5 })).toEqual(goals);
    const missed = judgeL1ThroughputGoals({ ...passing, tinyOverLru: 0.85 });
    expect(missed.filter((g) => !g.met).map((g) => g.goal)).toEqual([
      "query.get L1 hit: tinylfu ≥ 0.9× lru, one policy per process (0.85×)",
    ]);
  });

  it("prints one more digit when rounding would show the bound for a miss", () => {
    const goals = judgeL1ThroughputGoals({ ...passing, tinyGetVsLruCache: 0.2996, otelOverUnobserved: 0.6996 }, ", x");
    const tiny = goals.find((g) => g.goal.startsWith("query.get L1 hit (tinylfu) ≥ 30%"));
    expect(tiny).toEqual({ goal: "query.get L1 hit (tinylfu) ≥ 30% of lru-cache (30.0%, x)", met: false });
    const otel = goals.find((g) => g.goal.includes("OTel"));
    expect(otel?.goal).toMatch(/\(0\.700×, x\)$/);
    expect(otel?.met).toBe(false);
    // A value exactly on a lower bound meets it, and needs no extra digit.
    const onBound = judgeL1ThroughputGoals({ ...passing, tinyOverLru: 0.9 });
    expect(onBound.find((g) => g.goal.includes("tinylfu ≥ 0.9×"))).toEqual({
      goal: "query.get L1 hit: tinylfu ≥ 0.9× lru, one policy per process (0.90×)",
      met: true,
    });
  });
});

describe("peers goals", () => {
  it("judges a cost ratio against its upper bound, with a third digit for a hidden miss", () => {
    const goals = judgePeerGoals(() => ({ vsFastest: 0.9, vsRaw: 1.1004 }), ", median of 3 runs");
    const l2 = goals.find((g) => g.goal.startsWith("L2 hit p50"));
    expect(l2).toEqual({ goal: "L2 hit p50 ≤ 1.1× raw GET + JSON.parse (1.100×, median of 3 runs)", met: false });
    const miss = goals.find((g) => g.goal.startsWith("miss p50 ≤ 1.0× the fastest peer"));
    expect(miss?.met).toBe(true);
  });
});

describe("--repeat", () => {
  it("takes a whole count of at least 2 and passes the other arguments on", () => {
    expect(repeatArgument(["--quick"])).toEqual({ times: undefined, rest: ["--quick"] });
    expect(repeatArgument(["--runs", "7", "--repeat", "3", "--quick"])).toEqual({
      times: 3,
      rest: ["--runs", "7", "--quick"],
    });
    for (const bad of [["--repeat"], ["--repeat", "1"], ["--repeat", "2.5"], ["--repeat", "three"]]) {
      expect(() => repeatArgument(bad)).toThrow(/--repeat takes a whole number of runs, at least 2/);
    }
  });
});

/**
 * `npm run bench -- l1-throughput --repeat N`: the whole L1 throughput benchmark N times, each in a fresh process,
 * then the verdicts on the median of each goal's ratio over the N runs (as `peers --repeat`). Each run prints its own
 * tables and writes bench/results/l1-throughput.json; this then rewrites that file with the median rates and ratios,
 * every run's ratios and verdicts (`runsDetail`), and the chart from the medians.
 */
import { fileURLToPath } from "node:url";
import { freshRuns } from "./fresh-run.js";
import type { Goal } from "./goals.js";
import { reportGoals } from "./goals.js";
import { judgeL1ThroughputGoals, L1_THROUGHPUT_GOALS, type L1ThroughputRatios } from "./l1-throughput-goals.js";
import { fmt, median, printTable, writeResults } from "./measure.js";
import { writeBarChart } from "./svg-bar-chart.js";

/** The part of one run's l1-throughput.json read here. */
interface RunResult {
  readonly generatedAt: string;
  readonly rows: ReadonlyArray<{ readonly workload: string; readonly case: string; readonly opsPerSec: number }>;
  readonly ratios: L1ThroughputRatios;
  readonly goals: ReadonlyArray<Goal>;
  readonly [key: string]: unknown;
}

const script = fileURLToPath(new URL("../l1-throughput.ts", import.meta.url));

export async function repeatL1Throughput(times: number, args: ReadonlyArray<string>): Promise<void> {
  const runs = (await freshRuns(script, "l1-throughput", times, args)) as RunResult[];
  const last = runs[runs.length - 1] as RunResult;
  const keys = Object.keys(last.ratios) as Array<keyof L1ThroughputRatios>;
  const ratios = Object.fromEntries(
    keys.map((key) => [key, median(runs.map((run) => run.ratios[key] ?? Number.NaN))]),
  ) as unknown as L1ThroughputRatios;
  printTable(
    `the goals' ratios per run and their median over ${times} runs (higher is better)`,
    ["ratio", ...runs.map((_, i) => `run ${i + 1}`), "median", "bound"],
    [
      ...L1_THROUGHPUT_GOALS.map((g) => [
        g.ratio,
        ...runs.map((run) => fmt(run.ratios[g.ratio], 3)),
        fmt(ratios[g.ratio], 3),
        `≥ ${g.atLeast}`,
      ]),
      // Reported, not judged (see L1ThroughputRatios).
      [
        "tinyOverLruShared",
        ...runs.map((run) => fmt(run.ratios.tinyOverLruShared, 3)),
        fmt(ratios.tinyOverLruShared, 3),
        "—",
      ],
    ],
  );
  const goals = judgeL1ThroughputGoals(ratios, `, median of ${times} runs`);
  const goalMet = reportGoals(goals);
  // Each row's median rate over the runs, and its ratio to that workload's median raw lru-cache rate (not the last
  // run's ratio or rounds: a row holds the medians only; every run's ratios are in runsDetail).
  const medianRate = (workload: string, name: string) =>
    median(runs.map((run) => run.rows.find((r) => r.workload === workload && r.case === name)?.opsPerSec ?? NaN));
  const rows = last.rows.map(({ workload, case: name }) => {
    const opsPerSec = medianRate(workload, name);
    return {
      workload,
      case: name,
      opsPerSec: Math.round(opsPerSec),
      vsLruCache: opsPerSec / medianRate(workload, "lru-cache (raw)"),
    };
  });
  const file = writeResults("l1-throughput", {
    ...last,
    generatedAt: new Date().toISOString(),
    repeat: times,
    rows,
    ratios,
    goals,
    goalMet,
    // Every run's process pairs, under its run (the last run's alone at the top level would read as all of them).
    policyPairs: undefined,
    runsDetail: runs.map((run) => ({
      generatedAt: run.generatedAt,
      ratios: run.ratios,
      goals: run.goals,
      policyPairs: run.policyPairs,
    })),
  });
  const chart = writeBarChart("l1-throughput", {
    title: `L1 throughput — medians of ${times} runs (higher is better)`,
    unit: "M ops/s",
    bars: rows.map((r) => ({ group: r.workload, label: r.case, value: r.opsPerSec / 1e6 })),
  });
  console.log(`\nwrote ${file} and ${chart}`);
}

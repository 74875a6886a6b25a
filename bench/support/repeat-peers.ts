/**
 * `npm run bench -- peers --repeat N`: the whole peers benchmark N times, each in a fresh process, then the verdicts
 * on the median of the N runs. On a small shared machine one run's ratios move by ±10% from run to run (Postgres,
 * Redis and Node share two cores), so a goal near its bound flips between runs; issue 19 asks for medians of at
 * least three runs, and this computes them instead of leaving them to be worked out by hand.
 *
 * Each run prints its own tables and writes bench/results/peers.json as usual; this then rewrites that file with the
 * medians, every run's ratios and verdicts (`runsDetail`), and the charts from the medians.
 */
import { fileURLToPath } from "node:url";
import { freshRuns } from "./fresh-run.js";
import type { Goal } from "./goals.js";
import { reportGoals } from "./goals.js";
import { fmt, median, printTable, writeResults } from "./measure.js";
import { judgePeerGoals } from "./peer-goals.js";
import { chartName, writeBarChart } from "./svg-bar-chart.js";

/** The part of one run's peers.json read here. */
interface RunResult {
  readonly at: string;
  readonly machine: unknown;
  readonly workloads: ReadonlyArray<{
    readonly name: string;
    readonly unit: string;
    readonly better: "lower" | "higher";
    readonly median: Readonly<Record<string, number>>;
    readonly fastestPeer: string;
    readonly vsFastestPeer: number;
    readonly vsRaw: number;
  }>;
  readonly goals: ReadonlyArray<Goal>;
  readonly [key: string]: unknown;
}

/** peers.ts's `l1HitFloor`: the floor's rate, and each contender's L1 hit cost over the floor's. */
interface L1HitFloor {
  readonly opsPerSec: number;
  readonly costOverFloor: Readonly<Record<string, number>>;
}

const peersScript = fileURLToPath(new URL("../peers.ts", import.meta.url));

/** Runs the benchmark `times` times with `args` and reports the medians and the verdicts on them. */
export async function repeatPeers(times: number, args: ReadonlyArray<string>): Promise<void> {
  const runs = (await freshRuns(peersScript, "peers", times, args)) as RunResult[];
  const last = runs[runs.length - 1] as RunResult;
  const workloads = last.workloads.map((w) => {
    const each = runs.map((run) => {
      const found = run.workloads.find((x) => x.name === w.name);
      if (found === undefined) throw new Error(`peers run of ${run.at} has no workload ${w.name}`);
      return found;
    });
    const contenders = Object.keys(w.median);
    return {
      name: w.name,
      unit: w.unit,
      better: w.better,
      median: Object.fromEntries(contenders.map((c) => [c, median(each.map((x) => x.median[c] ?? Number.NaN))])),
      vsFastestPeer: median(each.map((x) => x.vsFastestPeer)),
      vsRaw: median(each.map((x) => x.vsRaw)),
      perRun: each.map((x) => ({ fastestPeer: x.fastestPeer, vsFastestPeer: x.vsFastestPeer, vsRaw: x.vsRaw })),
    };
  });
  printTable(
    `stratacache's cost ÷ the fastest peer's and ÷ raw's, per run and the median of ${times} runs (< 1 is ahead)`,
    ["workload", ...runs.map((_, i) => `run ${i + 1}: ÷ peer, ÷ raw`), "median ÷ fastest peer", "median ÷ raw"],
    workloads.map((w) => [
      w.name,
      ...w.perRun.map((r) => `${fmt(r.vsFastestPeer, 2)}×, ${fmt(r.vsRaw, 2)}×`),
      `${fmt(w.vsFastestPeer, 2)}×`,
      `${fmt(w.vsRaw, 2)}×`,
    ]),
  );
  // The L1 hit floor (peers.ts): each contender's cost over it, the median of the runs that measured it.
  const floors = runs.map((run) => run.l1HitFloor as L1HitFloor | undefined).filter((f) => f !== undefined);
  const l1HitFloor: L1HitFloor | undefined =
    floors.length === 0
      ? undefined
      : {
          opsPerSec: median(floors.map((f) => f.opsPerSec)),
          costOverFloor: Object.fromEntries(
            Object.keys(floors[0]?.costOverFloor ?? {}).map((name) => [
              name,
              median(floors.map((f) => f.costOverFloor[name] ?? Number.NaN)),
            ]),
          ),
        };
  if (l1HitFloor !== undefined) {
    console.log(
      `\nL1 hit cost ÷ the floor (await of a promise kept in a Map), median of ${floors.length} runs: ${Object.entries(
        l1HitFloor.costOverFloor,
      )
        .map(([name, ratio]) => `${name} ${fmt(ratio, 2)}×`)
        .join(", ")}`,
    );
  }
  const row = (name: string) => {
    const w = workloads.find((x) => x.name === name);
    if (w === undefined) throw new Error(`peers: no workload ${name}`);
    return { vsFastest: w.vsFastestPeer, vsRaw: w.vsRaw };
  };
  const goals = judgePeerGoals(row, `, median of ${times} runs`);
  const goalMet = reportGoals(goals);
  const file = writeResults("peers", {
    ...last,
    at: new Date().toISOString(),
    repeat: times,
    l1HitFloor,
    workloads,
    goals,
    goalMet,
    runsDetail: runs.map((run) => ({ at: run.at, machine: run.machine, goals: run.goals })),
  });
  const charts = workloads.map((w) =>
    writeBarChart(chartName("peers", w.name), {
      title: `${w.name} — ${w.better === "lower" ? "lower" : "higher"} is better (medians of ${times} runs)`,
      unit: w.unit,
      bars: Object.entries(w.median).map(([label, value]) => ({ label, value })),
    }),
  );
  console.log(`\nwrote ${file} and ${charts.join(", ")}`);
}

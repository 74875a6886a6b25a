/**
 * One whole run of a benchmark script in a child process of its own, with this process' loader (tsx): what
 * `--repeat N` is built on. A fresh process per run means each run starts from a cold JIT and heap, so one run whose
 * code V8 happened to optimise badly (an outlier) is just one of N, not the state every later run inherits.
 */
import { spawn } from "node:child_process";
import { readResults } from "./measure.js";

/** Runs `script` with `args` to completion, output inherited; rejects when it fails. */
export async function runFresh(script: string, args: ReadonlyArray<string>): Promise<void> {
  await spawnRun(script, args, false);
}

/** runFresh, with the child's standard output captured and returned rather than shown (its errors still are). */
export function runCapturing(script: string, args: ReadonlyArray<string>): Promise<string> {
  return spawnRun(script, args, true);
}

function spawnRun(script: string, args: ReadonlyArray<string>, capture: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: ["inherit", capture ? "pipe" : "inherit", "inherit"],
    });
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
    });
    child.on("error", reject);
    // `close`, not `exit`: only then has all of its output arrived.
    child.on("close", (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`${script} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

/**
 * The `--repeat N` of a benchmark's arguments: `times` (undefined without the flag) and the other arguments, to pass
 * to each run. Throws for a count that is not a whole number ≥ 2 (goals are judged on medians of 3 or more).
 */
export function repeatArgument(args: ReadonlyArray<string>): { times: number | undefined; rest: string[] } {
  const at = args.indexOf("--repeat");
  if (at < 0) return { times: undefined, rest: [...args] };
  const times = Number(args[at + 1]);
  if (!Number.isInteger(times) || times < 2) {
    throw new Error("--repeat takes a whole number of runs, at least 2 (the goals are judged on medians of 3 or more)");
  }
  return { times, rest: [...args.slice(0, at), ...args.slice(at + 2)] };
}

/**
 * `script` run `times` times, each in a fresh process with `args`, and what each run wrote as
 * bench/results/<results>.json, in run order.
 */
export async function freshRuns(
  script: string,
  results: string,
  times: number,
  args: ReadonlyArray<string>,
): Promise<unknown[]> {
  const runs: unknown[] = [];
  for (let i = 0; i < times; i++) {
    console.log(`\n════ run ${i + 1} of ${times} ════`);
    await runFresh(script, args);
    runs.push(readResults(results));
  }
  return runs;
}

/**
 * A benchmark's `--repeat N`: without the flag, returns (the benchmark then runs once). With it, runs `repeat` and
 * exits 0 — missed goals are said in the output and the results, not by the exit code, as in a single run; a bad
 * count exits 1 with the reason.
 */
export async function repeatIfAsked(
  args: ReadonlyArray<string>,
  repeat: (times: number, rest: ReadonlyArray<string>) => Promise<void>,
): Promise<void> {
  let parsed: ReturnType<typeof repeatArgument>;
  try {
    parsed = repeatArgument(args);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  if (parsed.times === undefined) return;
  await repeat(parsed.times, parsed.rest);
  process.exit(0);
}

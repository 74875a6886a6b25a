/** Small, dependency-free measuring helpers shared by the benchmarks. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: ReadonlyArray<number>, p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Mean latency in µs of `ops` sequential awaits of `op(i)`. */
export async function latencyUs(ops: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await op(i);
  return Number(process.hrtime.bigint() - start) / 1_000 / ops;
}

/** Operations per second with `concurrency` loops sharing `ops` calls of `op(i)`. */
export async function throughput(
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Mean µs of `op` alone, with an untimed `prepare` before each call (e.g. making a key cold). */
export async function preparedLatencyUs(
  ops: number,
  prepare: (i: number) => Promise<unknown>,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let total = 0n;
  for (let i = 0; i < ops; i++) {
    await prepare(i);
    const start = process.hrtime.bigint();
    await op(i);
    total += process.hrtime.bigint() - start;
  }
  return Number(total) / 1_000 / ops;
}

export function printTable(
  title: string,
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

/** What writeResults wrote for `name` (bench/results/<name>.json). */
export function readResults(name: string): unknown {
  return JSON.parse(readFileSync(join(resultsDir, `${name}.json`), "utf8"));
}

export function writeResults(name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "—");

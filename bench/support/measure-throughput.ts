/**
 * Side-by-side throughput measurement. Machines here are noisy, so cases are interleaved round by round
 * (rotating which goes first) and each reports the median of its rounds; compare cases by ratio.
 */

/** One contender: `run(ops)` performs `ops` operations (sync or async) — the loop lives inside it, so each case's loop is optimised on its own. */
export interface ThroughputCase {
  readonly name: string;
  readonly run: (ops: number) => void | Promise<void>;
}

export interface ThroughputResult {
  readonly name: string;
  /** Median over rounds. */
  readonly opsPerSec: number;
  readonly rounds: ReadonlyArray<number>;
  readonly opsPerRound: number;
}

export interface ThroughputOptions {
  /** Measured rounds per case (median of these); at least 5. */
  readonly rounds?: number;
  /** Target duration of one round of one case, in ms (the op count is calibrated to it). */
  readonly roundMs?: number;
}

export async function measureThroughput(
  cases: ReadonlyArray<ThroughputCase>,
  options: ThroughputOptions = {},
): Promise<ThroughputResult[]> {
  const rounds = Math.max(5, options.rounds ?? 7);
  const roundMs = options.roundMs ?? 150;
  // Calibrate (also the warm-up): grow the op count until one run takes a measurable time.
  const opsPerRound: number[] = [];
  for (const c of cases) {
    let ops = 1_000;
    for (;;) {
      const ms = await timed(c, ops);
      if (ms >= 30 || ops >= 1 << 26) {
        opsPerRound.push(Math.max(1_000, Math.round((ops * roundMs) / Math.max(ms, 1e-3))));
        break;
      }
      ops *= 4;
    }
    await timed(c, opsPerRound.at(-1)!);
  }
  const samples: number[][] = cases.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < cases.length; j++) {
      const i = (j + round) % cases.length;
      const ops = opsPerRound[i]!;
      const ms = await timed(cases[i]!, ops);
      samples[i]!.push((ops * 1_000) / ms);
    }
  }
  return cases.map((c, i) => ({
    name: c.name,
    opsPerSec: median(samples[i]!),
    rounds: samples[i]!,
    opsPerRound: opsPerRound[i]!,
  }));
}

async function timed(c: ThroughputCase, ops: number): Promise<number> {
  const start = performance.now();
  const result = c.run(ops);
  if (result !== undefined) await result;
  return performance.now() - start;
}

/**
 * `a`'s rate over `b`'s, as the median of their per-round ratios: rounds interleave every case, so a round's pair
 * shared the machine's state, and a slow stretch (another process, a GC) moves both sides of its ratio. Steadier on
 * a shared machine than the ratio of the two medians. Falls back to that when the round counts differ.
 */
export function pairedRatio(a: ReadonlyArray<number>, b: ReadonlyArray<number>): number {
  if (a.length !== b.length || a.length === 0) return median(a) / median(b);
  return median(a.map((value, i) => value / b[i]!));
}

export function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Renders rows of cells as an aligned text table (first column left-aligned, the rest right-aligned). */
export function formatTable(header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: ReadonlyArray<string>): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

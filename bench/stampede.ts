/**
 * Cross-process stampede: N processes (1, 2, 4, 8) × 1,000 concurrent cold reads, of one key and of 100 keys (10
 * reads per key per process), with the fill lease off, on with push invalidation waking waiters, and on with
 * polling only. Reported: Postgres reads issued (counted by each process's pool, per id), and the readers' latency
 * p50/p99 (from the burst's start to each read's answer). Then the lease's cost alone: sequential cold misses on
 * keys nobody else wants, lease on vs off, interleaved; and waiters alone: one cold get per process at once (the
 * protocol's latency, without the burst's own queueing). Each cell is the median of `--rounds` runs (default 3).
 *
 *   npm run bench -- stampede [--quick] [--rounds 3]
 *
 * Goals: Postgres reads = keys whatever N (lease on); waiter p99 ≤ 2× a single fetch with push on (in the burst of
 * 1,000, and alone); a lone miss with
 * the lease ≤ 1.1× the lease-off miss. Uses DATABASE_URL / REDIS_URL, else the local servers; removes its table
 * and keys when done.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { z } from "zod";
import type { CacheSpecInput, RuntimeModule } from "../src/index.js";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../src/index.js";
import { reportGoals } from "./support/goals.js";
import { removeBenchData } from "./support/leftovers.js";
import { fmt, median, percentile, printTable, writeResults } from "./support/measure.js";
import { renderLineChart } from "./support/svg-line-chart.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TABLE = "bench_stampede";
/** The run's key prefix; peers get their parent's. */
const PREFIX = process.env.STAMPEDE_PEER ?? `bench-stampede-${randomUUID().slice(0, 8)}`;
const fields = z.object({ name: z.string(), price: z.number().int() });

/** The three configurations each process runs side by side, each in its own namespace. */
const MODES = {
  off: { push: true, cache: { ttl: "5m" } },
  "lease+push": { push: true, cache: { ttl: "5m", lease: { maxWait: "5s" } } },
  "lease+poll": { push: false, cache: { ttl: "5m", lease: { maxWait: "5s" } } },
} as const satisfies Record<string, { push: boolean; cache: CacheSpecInput }>;
type Mode = keyof typeof MODES;
const MODE_NAMES = Object.keys(MODES) as Mode[];

// ───────────────────────────── child: one runtime per mode, driven over stdin/stdout ─────────────────────────────

async function runPeer(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  pool.on("error", () => {});
  const reads = new Map<Mode, number>(MODE_NAMES.map((mode) => [mode, 0]));
  const queries = new Map<Mode, ReturnType<typeof query>>();
  function query(mode: Mode) {
    /** Counts the ids of every document read this mode's runtime sends. */
    const counting = {
      async query(text: string, values?: unknown[]) {
        if (/^SELECT (?!rev )/.test(text) && /WHERE id = (\$1|ANY\(\$1)/.test(text) && values !== undefined) {
          reads.set(mode, (reads.get(mode) ?? 0) + (Array.isArray(values[0]) ? (values[0] as unknown[]).length : 1));
        }
        return pool.query(text, values);
      },
      connect: () => pool.connect(),
    };
    const spec = defineDocument({ name: "products", fields, cache: MODES[mode].cache });
    const modules: RuntimeModule[] = [
      postgresModule({ pool: counting, documents: { products: { table: TABLE } }, migrate: false }),
      redisModule({
        url: REDIS_URL,
        timeoutMs: 5_000,
        caches: { products: { namespace: `${PREFIX}:${mode}`, invalidationPush: MODES[mode].push } },
      }),
    ];
    return { runtime: createRuntime({ modules, logger: silentLogger }), spec };
  }
  for (const mode of MODE_NAMES) {
    const made = query(mode);
    await made.runtime.start();
    queries.set(mode, made);
  }
  const reader = (mode: Mode) => {
    const made = queries.get(mode)!;
    return made.runtime.context().document.query(made.spec);
  };
  const ops: Record<string, (args: { mode: Mode; ids: string[]; reads: number }) => Promise<unknown>> = {
    /** `reads` concurrent gets spread over `ids`; latency of each from the burst's start. */
    async burst({ mode, ids, reads: n }) {
      const q = reader(mode);
      const start = performance.now();
      const latencies = await Promise.all(
        Array.from({ length: n }, (_, i) => q.get(ids[i % ids.length]!).then(() => performance.now() - start)),
      );
      return latencies;
    },
    /** One cold miss after another on `ids` (keys nobody else reads); each miss's latency. */
    async sequential({ mode, ids }) {
      const q = reader(mode);
      const out: number[] = [];
      for (const id of ids) {
        const start = performance.now();
        await q.get(id);
        out.push(performance.now() - start);
      }
      return out;
    },
    async reads({ mode }) {
      const n = reads.get(mode) ?? 0;
      reads.set(mode, 0);
      return n;
    },
    async stop() {
      for (const made of queries.values()) await made.runtime.stop();
      await pool.end();
      setImmediate(() => process.exit(0));
      return null;
    },
  };
  const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    const { seq, op, args } = JSON.parse(line) as { seq: number; op: string; args: never };
    ops[op]!(args).then(
      (value) => send({ seq, value }),
      (error: unknown) => send({ seq, error: String(error) }),
    );
  });
  send({ ready: true });
}

interface Peer {
  call<T>(op: string, args?: Record<string, unknown>): Promise<T>;
}

async function spawnPeer(): Promise<Peer> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: { ...process.env, STAMPEDE_PEER: PREFIX },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const pending = new Map<number, (message: { value?: unknown; error?: string }) => void>();
  let seq = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`peer exited (${code})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as { ready?: boolean; seq?: number; value?: unknown; error?: string };
      if (message.ready) return resolve();
      pending.get(message.seq!)?.(message);
      pending.delete(message.seq!);
    });
  });
  await ready;
  return {
    call: <T>(op: string, args: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++seq;
        pending.set(id, (message) => (message.error ? reject(new Error(message.error)) : resolve(message.value as T)));
        child.stdin.write(`${JSON.stringify({ seq: id, op, args })}\n`);
      }),
  };
}

// ───────────────────────────── parent ─────────────────────────────

if (process.env.STAMPEDE_PEER !== undefined) {
  await runPeer();
} else {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const roundsAt = args.indexOf("--rounds");
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : quick ? 1 : 3;
  const COUNTS = [1, 2, 4, 8];
  const READS = quick ? 200 : 1_000;

  // The table, made by a runtime that migrates (the peers only read it).
  const admin = createRuntime({
    modules: [postgresModule({ url: DATABASE_URL, documents: { products: { table: TABLE } } })],
    logger: silentLogger,
  });
  await admin.start();
  const seedSpec = defineDocument({ name: "products", fields });
  const commands = admin.context().document.command(seedSpec);
  /** Fresh documents: never read, so cold in every namespace. */
  const fresh = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await commands.create({ name: "p", price: i })).id);
    return ids;
  };

  try {
    console.log(`stampede: starting 8 processes (each runs the 3 modes side by side)…`);
    const peers = await Promise.all(COUNTS.slice(-1).flatMap((n) => Array.from({ length: n }, () => spawnPeer())));

    interface Cell {
      readonly keys: number;
      readonly processes: number;
      readonly mode: Mode;
      readonly reads: number;
      readonly p50: number;
      readonly p99: number;
    }
    const cells: Cell[] = [];
    for (const keys of [1, 100]) {
      for (const processes of COUNTS) {
        for (const mode of MODE_NAMES) {
          const samples: Array<{ reads: number; p50: number; p99: number }> = [];
          for (let round = 0; round < rounds; round++) {
            const ids = await fresh(keys);
            const group = peers.slice(0, processes);
            await Promise.all(group.map((peer) => peer.call("reads", { mode })));
            const latencies = (
              await Promise.all(group.map((peer) => peer.call<number[]>("burst", { mode, ids, reads: READS })))
            ).flat();
            const reads = (await Promise.all(group.map((peer) => peer.call<number>("reads", { mode })))).reduce(
              (a, b) => a + b,
              0,
            );
            samples.push({ reads, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
          }
          cells.push({
            keys,
            processes,
            mode,
            reads: median(samples.map((s) => s.reads)),
            p50: median(samples.map((s) => s.p50)),
            p99: median(samples.map((s) => s.p99)),
          });
        }
      }
    }
    printTable(
      `Postgres reads and reader latency (ms), ${READS} concurrent cold reads per process, median of ${rounds}`,
      ["keys", "processes", "mode", "Postgres reads", "p50 ms", "p99 ms"],
      cells.map((c) => [String(c.keys), String(c.processes), c.mode, String(c.reads), fmt(c.p50), fmt(c.p99)]),
    );

    // A single fetch, and the lease's own cost: lone cold misses, lease off and on, interleaved in batches.
    const MISSES = quick ? 40 : 200;
    const lone: Record<"off" | "lease+push", number[]> = { off: [], "lease+push": [] };
    for (let batch = 0; batch < 10; batch++) {
      for (const mode of ["off", "lease+push"] as const) {
        const ids = await fresh(MISSES / 10);
        lone[mode].push(...(await peers[0]!.call<number[]>("sequential", { mode, ids })));
      }
    }
    const missOff = median(lone.off);
    const missLease = median(lone["lease+push"]);
    printTable(
      `A lone cold miss (${MISSES} each, one process, nobody else reading)`,
      ["mode", "p50 ms", "p99 ms"],
      [
        ["off", fmt(missOff, 2), fmt(percentile(lone.off, 99), 2)],
        ["lease", fmt(missLease, 2), fmt(percentile(lone["lease+push"], 99), 2)],
      ],
    );

    // Waiters alone: one cold get per process at once (no burst around it), so a waiter's latency is the protocol's —
    // the holder's fetch and fill, the push (or poll) that wakes it, its re-claim — not its own event loop's queue.
    const ALONE_ROUNDS = quick ? 15 : 40;
    const alone: Record<Mode, number[]> = { off: [], "lease+push": [], "lease+poll": [] };
    for (let round = 0; round < ALONE_ROUNDS; round++) {
      for (const mode of MODE_NAMES) {
        const ids = await fresh(1);
        const latencies = await Promise.all(peers.map((peer) => peer.call<number[]>("burst", { mode, ids, reads: 1 })));
        alone[mode].push(...latencies.flat());
      }
    }
    printTable(
      `Waiters alone: ${peers.length} processes × 1 concurrent cold get of one key, ${ALONE_ROUNDS} rounds (ms)`,
      ["mode", "p50 ms", "p99 ms"],
      MODE_NAMES.map((mode) => [mode, fmt(percentile(alone[mode], 50), 2), fmt(percentile(alone[mode], 99), 2)]),
    );
    const alonePush = percentile(alone["lease+push"], 99);

    const leaseCells = cells.filter((c) => c.mode !== "off");
    const exact = leaseCells.every((c) => c.reads === c.keys);
    const waiter = cells.find((c) => c.keys === 1 && c.processes === 8 && c.mode === "lease+push")!;
    const goals = [
      {
        goal: `Postgres reads = keys for every N with the lease (${leaseCells.map((c) => `${c.mode} ${c.keys}k×${c.processes}p: ${c.reads}`).join(", ")})`,
        met: exact,
      },
      {
        goal: `waiter p99 ≤ 2× a single fetch with push on, 1 key × 8 processes (${fmt(waiter.p99)} ms vs single fetch ${fmt(missOff, 2)} ms: ${fmt(waiter.p99 / missOff, 2)}×)`,
        met: waiter.p99 <= 2 * missOff,
      },
      {
        goal: `waiters alone (${peers.length} processes × 1 get): p99 with push ≤ 2× a single fetch (${fmt(alonePush, 2)} ms vs ${fmt(missOff, 2)} ms: ${fmt(alonePush / missOff, 2)}×; lease-off p99 of the same round ${fmt(percentile(alone.off, 99), 2)} ms)`,
        met: alonePush <= 2 * missOff,
      },
      {
        goal: `lone miss with the lease ≤ 1.1× the lease-off miss (${fmt(missLease, 2)} vs ${fmt(missOff, 2)} ms: ${fmt(missLease / missOff, 2)}×)`,
        met: missLease <= 1.1 * missOff,
      },
    ];
    reportGoals(goals);
    const aloneStats = Object.fromEntries(
      MODE_NAMES.map((mode) => [mode, { p50: percentile(alone[mode], 50), p99: percentile(alone[mode], 99) }]),
    );
    writeResults("stampede", {
      reads: READS,
      rounds,
      cells,
      loneMiss: { off: missOff, lease: missLease },
      waitersAlone: aloneStats,
      goals,
    });
    const chart = renderLineChart({
      title: "Stampede of 100 cold keys: Postgres reads per key",
      xLabel: "processes",
      yLabel: "Postgres reads per key",
      series: MODE_NAMES.map((mode, i) => ({
        name: mode,
        color: ["#d62728", "#1f77b4", "#2ca02c"][i]!,
        dashed: mode === "lease+poll",
        points: cells
          .filter((c) => c.keys === 100 && c.mode === mode)
          .map((c) => [c.processes, c.reads / 100] as const),
      })),
    });
    writeFileSync(join(dirname(fileURLToPath(import.meta.url)), "results", "stampede.svg"), chart);
    console.log(
      "Wrote bench/results/stampede.json and bench/results/stampede.svg (the machine may be shared: see the ratios).",
    );
    await Promise.all(peers.map((peer) => peer.call("stop").catch(() => {})));
  } finally {
    await admin.stop();
    await removeBenchData(DATABASE_URL, REDIS_URL, { tables: [TABLE], keyPattern: `${PREFIX}*` });
  }
}

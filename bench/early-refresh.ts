/**
 * A hot key across its expiry moment, with early refresh (XFetch) off, inline and in the background.
 *
 * Several runtimes in this process (default 8) share one real Postgres and one real Redis, with no L1, and read one
 * hot document at a fixed aggregate rate (default 2,000 reads/s, open loop: reads are issued on a 1 ms timer, never
 * awaited by the pacer). The entry lives `ttl` (default 2 s); the run spans several expiries of it. Nothing is
 * faked: the fetch cost XFetch sees (delta) is what the real SELECT took on the runtime's clock.
 *
 * The expiry moments are read from the entry itself: after each burst of Postgres reads settles, an observer client
 * GETs the entry and records its `freshUntil` (and `delta`). Every Postgres read is stamped by the `onQuery` hook when
 * it is sent. Per mode the bench reports:
 *   - Postgres reads over the run, per expiry, and in the 100 ms window around each expiry (±50 ms), split into
 *     before and after the moment; the most in any 10 ms (sliding);
 *   - read latency p50 / p99 / max over the run, and p99 / max of reads issued in the windows;
 *   - the runtimes' counters (summed): elections inline / background, dropped, failures, L2 stale, collapsed.
 *
 *   npm run bench -- early-refresh [--quick] [--cycles N] [--rate R] [--runtimes N] [--ttl MS] [--beta B]
 *
 * Uses DATABASE_URL / REDIS_URL, else the local servers. Each run uses its own table and Redis namespace and
 * removes both at the end.
 */

import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
import type { CacheSpecInput, DocumentStats, Runtime } from "../src/index.js";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../src/index.js";
import { entryPrefix, idKey } from "../src/l2/key-layout.js";
import { reportGoals } from "./support/goals.js";
import { fmt, percentile, printTable, writeResults } from "./support/measure.js";
import { writeBarChart } from "./support/svg-bar-chart.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const numberArg = (flag: string, fallback: number): number => {
  const at = args.indexOf(flag);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number`);
  return value;
};
const CYCLES = Math.round(numberArg("--cycles", quick ? 1 : 6));
const RATE = numberArg("--rate", 2_000);
const RUNTIMES = Math.round(numberArg("--runtimes", 8));
const TTL_MS = Math.round(numberArg("--ttl", 2_000));
const BETA = numberArg("--beta", 1);
/** Half of the window around each expiry moment. */
const HALF_WINDOW_MS = 50;
const SLICE_MS = 10;
/** How long the load keeps going after the last expiry moment measured. */
const TAIL_MS = 300;
/** After the last Postgres read of a burst, wait this long before reading the new entry's freshUntil. */
const OBSERVE_AFTER_MS = 50;

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const RUN_ID = `${process.pid}_${randomUUID().slice(0, 8)}`;
const TABLE = `bench_early_refresh_${RUN_ID}`;
const NAMESPACE_ROOT = `bench:er:${RUN_ID}`;

const fields = z.object({ name: z.string(), price: z.number().int(), tags: z.array(z.string()) });

interface Mode {
  readonly name: string;
  readonly cache: CacheSpecInput;
}
const MODES: ReadonlyArray<Mode> = [
  { name: "off", cache: { ttl: TTL_MS } },
  { name: "inline", cache: { ttl: TTL_MS, earlyRefresh: { beta: BETA, background: false } } },
  { name: "background", cache: { ttl: TTL_MS, earlyRefresh: { beta: BETA, background: true } } },
];

/** A Postgres read of the document, stamped when it was sent (wall clock, the runtimes' clock). */
interface Fetch {
  readonly at: number;
  readonly runtime: number;
  readonly batch: boolean;
}
/** One generation of the entry: when it stops being fresh, and the fetch cost it carries. */
interface Expiry {
  at: number;
  delta: number;
  fetchedAt: number;
}
interface Read {
  readonly at: number;
  latencyMs: number;
}

const isDocumentRead = (sql: string) => /^\s*select\b/i.test(sql) && sql.includes(TABLE) && /\bwhere id =/i.test(sql);

/** Header fields of an entry envelope (`s1|fp|incarnation|rev|fetchedAt|delta|freshUntil|body`). */
function parseEntry(raw: string | null): (Omit<Expiry, "at"> & { freshUntil: number }) | undefined {
  if (raw === null) return undefined;
  const parts = raw.split("|", 7);
  if (parts[0] !== "s1" || parts[3] === "T") return undefined;
  return { fetchedAt: Number(parts[4]), delta: Number(parts[5]), freshUntil: Number(parts[6]) };
}

/** The most events in any window of `width` ms (times sorted ascending). */
function maxInSlice(times: ReadonlyArray<number>, width: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] as number) - (times[lo] as number) >= width) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

const maxOf = (values: ReadonlyArray<number>) =>
  values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Counters = {
  fetches: number;
  batchFetches: number;
  collapsed: number;
  l2Hits: number;
  l2Stale: number;
  l2Misses: number;
  electedInline: number;
  electedBackground: number;
  dropped: number;
  failures: number;
  fills: number;
  fillsRejected: number;
};
function counters(stats: ReadonlyArray<DocumentStats>): Counters {
  const sum = (pick: (s: DocumentStats) => number) => stats.reduce((total, s) => total + pick(s), 0);
  return {
    fetches: sum((s) => s.source.fetches),
    batchFetches: sum((s) => s.source.batchFetches),
    collapsed: sum((s) => s.source.collapsed),
    l2Hits: sum((s) => s.l2.hits),
    l2Stale: sum((s) => s.l2.stale),
    l2Misses: sum((s) => s.l2.misses),
    electedInline: sum((s) => s.refresh.electedInline),
    electedBackground: sum((s) => s.refresh.electedBackground),
    dropped: sum((s) => s.refresh.dropped),
    failures: sum((s) => s.refresh.failures),
    fills: sum((s) => s.source.fills),
    fillsRejected: sum((s) => s.source.fillsRejected),
  };
}
function minus(after: Counters, before: Counters): Counters {
  const out = { ...after };
  for (const key of Object.keys(out) as Array<keyof Counters>) out[key] = after[key] - before[key];
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Setup: one table, one hot document, shared by every mode (each mode has its own Redis namespace).

const setupSpec = defineDocument({ name: "hot", fields });
const setup = createRuntime({
  modules: [postgresModule({ url: DATABASE_URL, documents: { hot: { table: TABLE } } })],
  logger: silentLogger,
});
await setup.start(); // creates the table
const hot = await setup
  .context()
  .document.command(setupSpec)
  .create({
    name: "the hot one",
    price: 4_200,
    tags: Array.from({ length: 16 }, (_, i) => `tag-${i}`),
  });
await setup.stop();
const observer = new Redis(REDIS_URL);
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });

/** Runs one mode until `cycles` expiries have passed (or, for the warm-up, for `loadMs`). */
async function runMode(mode: Mode, cycles: number, loadMs?: number) {
  const spec = defineDocument({ name: "hot", fields, cache: mode.cache });
  const namespace = `${NAMESPACE_ROOT}:${loadMs === undefined ? mode.name : "warm-up"}`;
  const entryKey = idKey(entryPrefix(namespace, spec.fingerprint), hot.id);
  const fetches: Fetch[] = [];
  const expiries: Expiry[] = [];
  let observeTimer: NodeJS.Timeout | undefined;
  let measuring = false;
  let closed = false;

  /** Reads the entry's freshUntil once a burst of Postgres reads has settled: the next expiry moment. */
  const observe = async (attempt = 0): Promise<void> => {
    if (closed) return;
    const entry = parseEntry(await observer.get(entryKey));
    if (entry === undefined) {
      if (attempt < 10 && !closed) observeTimer = setTimeout(() => observe(attempt + 1).catch(reportObserverError), 20);
      return;
    }
    const last = expiries.at(-1);
    if (last === undefined || entry.freshUntil > last.at + TTL_MS / 2) {
      expiries.push({ at: entry.freshUntil, delta: entry.delta, fetchedAt: entry.fetchedAt });
    } else if (entry.freshUntil > last.at) {
      // A later fill of the same burst landed after we looked: the entry lives a little longer than recorded.
      last.at = entry.freshUntil;
      last.delta = entry.delta;
      last.fetchedAt = entry.fetchedAt;
    }
  };

  const runtimes: Runtime[] = [];
  try {
    return await drive();
  } finally {
    closed = true;
    clearTimeout(observeTimer);
    for (const runtime of runtimes) await runtime.stop();
    await deleteKeys(`${namespace}*`);
  }

  async function drive() {
    for (let i = 0; i < RUNTIMES; i++) {
      const runtime = createRuntime({
        modules: [
          postgresModule({
            url: DATABASE_URL,
            documents: { hot: { table: TABLE } },
            migrate: false,
            onQuery: (sql) => {
              if (!measuring || !isDocumentRead(sql)) return;
              fetches.push({ at: Date.now(), runtime: i, batch: /\bany\(/i.test(sql) });
              clearTimeout(observeTimer);
              observeTimer = setTimeout(() => observe().catch(reportObserverError), OBSERVE_AFTER_MS);
            },
          }),
          redisModule({ url: REDIS_URL, caches: { hot: { namespace } } }),
        ],
        logger: silentLogger,
      });
      await runtime.start();
      runtimes.push(runtime);
    }
    const queries = runtimes.map((runtime) => runtime.context().document.query(spec));
    // Warm every pool's first connection (skipCache: no fill), so no measured delta includes a connect.
    await Promise.all(queries.map((query) => query.get(hot.id, { skipCache: true })));
    await queries[0]!.get(hot.id); // the one fill: the first entry, with a real measured delta
    await Promise.all(queries.map((query) => query.get(hot.id))); // warm every Redis connection (hits)
    await observe();
    if (expiries.length !== 1) throw new Error(`${mode.name}: the warm-up fill left no entry at ${entryKey}`);
    const before = counters(queries.map((query) => query.stats()));

    // The load: RATE reads/s in all, round-robin over the runtimes, paced by a 1 ms timer (open loop).
    const reads: Read[] = [];
    const inFlight = new Set<Promise<void>>();
    let errors = 0;
    let issued = 0;
    let maxLagMs = 0;
    measuring = true;
    const loadStart = Date.now();
    const startHr = performance.now();
    const giveUpAt = loadStart + (loadMs ?? (cycles + 2) * TTL_MS + 5_000);
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - startHr;
        const due = Math.floor((elapsed * RATE) / 1_000);
        if (due > issued + 1) maxLagMs = Math.max(maxLagMs, ((due - issued) * 1_000) / RATE);
        while (issued < due) {
          const query = queries[issued % RUNTIMES]!;
          issued++;
          const read: Read = { at: Date.now(), latencyMs: Number.NaN };
          const t0 = performance.now();
          const work = query.get(hot.id).then(
            () => {
              read.latencyMs = performance.now() - t0;
            },
            () => {
              errors++;
            },
          );
          reads.push(read);
          inFlight.add(work);
          void work.then(() => inFlight.delete(work));
        }
        const lastMeasured = loadMs === undefined ? expiries[cycles - 1] : undefined;
        const now = Date.now();
        if ((lastMeasured !== undefined && now >= lastMeasured.at + TAIL_MS) || now >= giveUpAt) resolve();
        else setTimeout(tick, 1);
      };
      setTimeout(tick, 1);
    });
    const loadEnd = Date.now();
    const seconds = (loadEnd - loadStart) / 1_000;
    await Promise.all(inFlight);
    await sleep(OBSERVE_AFTER_MS + 50); // let any background refresh and the observer finish
    measuring = false;
    const after = counters(queries.map((query) => query.stats()));

    // Analysis. Each Postgres read belongs to the first measured expiry it precedes or follows by less than half a
    // window: the generation it replaced (early when before the moment, a miss when at or after it).
    const measured = expiries.slice(0, cycles).filter((e) => e.at + HALF_WINDOW_MS <= loadEnd);
    const times = fetches.map((f) => f.at).sort((a, b) => a - b);
    const inWindow = (t: number) => measured.some((e) => t >= e.at - HALF_WINDOW_MS && t < e.at + HALF_WINDOW_MS);
    const owner = (f: Fetch) => measured.findIndex((e) => f.at < e.at + HALF_WINDOW_MS);
    const perExpiry = measured.map((e, k) => {
      const mine = fetches.filter((f) => owner(f) === k);
      const offsets = mine.map((f) => f.at - e.at).sort((a, b) => a - b);
      const near = offsets.filter((o) => o >= -HALF_WINDOW_MS);
      return {
        expiresAt: new Date(e.at).toISOString(),
        entryDeltaMs: e.delta,
        fetches: offsets.length,
        fetchesInWindow: near.length,
        beforeExpiry: offsets.filter((o) => o < 0).length,
        atOrAfterExpiry: offsets.filter((o) => o >= 0).length,
        runtimesFetching: new Set(mine.map((f) => f.runtime)).size,
        offsetsMs: offsets,
        maxIn10ms: maxInSlice(
          offsets.map((o) => o + e.at),
          SLICE_MS,
        ),
      };
    });
    const latencies = reads.filter((r) => Number.isFinite(r.latencyMs)).map((r) => r.latencyMs);
    const windowLatencies = reads.filter((r) => Number.isFinite(r.latencyMs) && inWindow(r.at)).map((r) => r.latencyMs);
    const stats = minus(after, before);
    return {
      mode: mode.name,
      cache: mode.cache,
      seconds,
      reads: reads.length,
      achievedRate: reads.length / seconds,
      maxPacerLagMs: maxLagMs,
      errors,
      expiries: measured.length,
      fetches: {
        total: fetches.length,
        perExpiry: measured.length > 0 ? fetches.length / measured.length : Number.NaN,
        inWindows: perExpiry.reduce((n, e) => n + e.fetchesInWindow, 0),
        /** Reads after the last measured window (the tail of the run). */
        unattributed: fetches.filter((f) => owner(f) < 0).length,
        beforeExpiry: perExpiry.reduce((n, e) => n + e.beforeExpiry, 0),
        atOrAfterExpiry: perExpiry.reduce((n, e) => n + e.atOrAfterExpiry, 0),
        maxIn10ms: maxInSlice(times, SLICE_MS),
        perExpiryDetail: perExpiry,
      },
      latencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: maxOf(latencies),
        windowReads: windowLatencies.length,
        windowP99: percentile(windowLatencies, 99),
        windowMax: maxOf(windowLatencies),
      },
      stats,
    };
  }
}

function reportObserverError(error: unknown): void {
  console.error("observer read failed:", error instanceof Error ? error.message : error);
}

/** Deletes this run's keys (SCAN, not KEYS: the server may be shared). */
async function deleteKeys(pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await observer.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
    if (keys.length > 0) await observer.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

const results = [];
try {
  // Warm-up, not recorded: lets V8 optimise the read path before the first measured mode.
  process.stdout.write("warm-up… ");
  await runMode(MODES[0]!, 0, quick ? 500 : 1_500);
  process.stdout.write("done\n");
  for (const mode of MODES) {
    process.stdout.write(`${mode.name}: ${RUNTIMES} runtimes, ${RATE} reads/s, ttl ${TTL_MS} ms, ${CYCLES} expiries… `);
    const result = await runMode(mode, CYCLES);
    results.push(result);
    process.stdout.write(`${result.fetches.total} Postgres reads in ${fmt(result.seconds)} s\n`);
  }
} finally {
  observer.disconnect();
  await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await admin.end();
}

const list = (values: ReadonlyArray<number | string>) => values.join(",");
const signed = (ms: number | undefined) => (ms === undefined ? "none" : ms > 0 ? `+${ms}` : String(ms));
printTable(
  `hot key across expiry — Postgres reads (${RUNTIMES} runtimes, no L1, ${RATE} reads/s in all, ttl ${TTL_MS} ms, beta ${BETA}; window = expiry ±${HALF_WINDOW_MS} ms)`,
  [
    "early refresh",
    "expiries",
    "PG reads",
    "per expiry",
    "in windows",
    "before expiry",
    "max / 10 ms",
    "PG reads by expiry",
    "first read vs expiry, ms",
    "entry delta, ms",
  ],
  results.map((r) => [
    r.mode,
    String(r.expiries),
    String(r.fetches.total),
    fmt(r.fetches.perExpiry, 2),
    String(r.fetches.inWindows),
    String(r.fetches.beforeExpiry),
    String(r.fetches.maxIn10ms),
    list(r.fetches.perExpiryDetail.map((e) => e.fetches)),
    list(r.fetches.perExpiryDetail.map((e) => signed(e.offsetsMs[0]))),
    list(r.fetches.perExpiryDetail.map((e) => e.entryDeltaMs)),
  ]),
);
printTable(
  "hot key across expiry — reads (latency in ms; counters summed over the runtimes)",
  [
    "early refresh",
    "reads",
    "reads/s",
    "p50",
    "p99",
    "max",
    "window p99",
    "window max",
    "elected inline",
    "elected bg",
    "dropped",
    "failures",
    "L2 stale",
    "collapsed",
    "errors",
    "loop stall",
  ],
  results.map((r) => [
    r.mode,
    String(r.reads),
    fmt(r.achievedRate, 0),
    fmt(r.latencyMs.p50, 2),
    fmt(r.latencyMs.p99, 2),
    fmt(r.latencyMs.max, 2),
    fmt(r.latencyMs.windowP99, 2),
    fmt(r.latencyMs.windowMax, 2),
    String(r.stats.electedInline),
    String(r.stats.electedBackground),
    String(r.stats.dropped),
    String(r.stats.failures),
    String(r.stats.l2Stale),
    String(r.stats.collapsed),
    String(r.errors),
    fmt(r.maxPacerLagMs, 0),
  ]),
);
console.log(
  `
PG reads by expiry: all reads of the generation that expired (from the previous window's end to this window's end);
first read vs expiry: when the first of them was sent, relative to the moment (negative = early refresh);
entry delta: the fetch cost the expiring entry carried (what XFetch scales its reach by);
loop stall: the pacer's worst lateness, ms (event-loop stalls delay reads and stamps alike).`,
);

// Stampede goal: concurrent misses of one key cost one Postgres query per process (here: per runtime).
// Judged with XFetch off, where every read at the expiry misses at once; early refresh reads ahead by design.
const goals = results
  .filter((r) => r.mode === "off")
  .map((r) => {
    const worst = Math.max(0, ...r.fetches.perExpiryDetail.map((e) => e.fetches));
    return {
      goal: `stampede, XFetch ${r.mode}: at most one Postgres read per runtime per expiry (worst expiry: ${worst} reads, ${RUNTIMES} runtimes)`,
      met: worst <= RUNTIMES,
    };
  });
const goalMet = reportGoals(goals);

const file = writeResults("early-refresh", {
  goals,
  goalMet,
  quick,
  at: new Date().toISOString(),
  node: process.version,
  settings: {
    runtimes: RUNTIMES,
    rate: RATE,
    ttlMs: TTL_MS,
    beta: BETA,
    cycles: CYCLES,
    windowMs: 2 * HALF_WINDOW_MS,
    sliceMs: SLICE_MS,
    postgres: new URL(DATABASE_URL).host,
    redis: new URL(REDIS_URL).host,
  },
  modes: results,
});
const chart = writeBarChart("early-refresh", {
  title: "hot key across expiry, by early-refresh mode (lower is better)",
  unit: "",
  bars: results
    .flatMap((r) => [
      { group: "Postgres reads per expiry", label: r.mode, value: r.fetches.perExpiry },
      { group: "worst Postgres reads in 10 ms", label: r.mode, value: r.fetches.maxIn10ms },
      { group: "read p99 in the expiry windows, ms", label: r.mode, value: r.latencyMs.windowP99 },
    ])
    .sort((a, b) => a.group.localeCompare(b.group)),
});
console.log(`\nwrote ${file} and ${chart}`);

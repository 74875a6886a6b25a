/**
 * Change capture (goals: invalidation lag p99 < 20 ms with the doorbell and with logical replication; write
 * throughput cost ≤ 25 % for the trigger outbox and ≤ 5 % for logical replication).
 *
 * Runs on a private Postgres started for the run (initdb + pg_ctl, `wal_level=logical`, so every variant shares one
 * server's settings) and a Redis (REDIS_URL, else the local one).
 *
 * 1. Write throughput, pgbench-style: 16 clients (`pgbench -c 16 -j 2 -T <s>`) run single-row UPDATEs of a random
 *    row of a 100,000-row document table, with no capture, with the trigger outbox (a relay draining it meanwhile) and
 *    with logical replication (a consumer on the slot meanwhile); the variants take turns, `--rounds` times, and the
 *    table shows every run and the median.
 * 2. Invalidation lag for out-of-band writes: a plain pg client UPDATEs documents that replica B (L1 + push, no
 *    relay) has cached; a relay runtime R applies the change; lag is from the writer's COMMIT returning to B's push
 *    router receiving the key (negative when it arrived before the writer heard its COMMIT reply). For outbox + doorbell (the writer runs `pg_notify` after each commit), outbox
 *    poll-only (poll interval 250 ms, the default) and logical. Writer, B and R share one process (one clock).
 *
 *   npm run bench -- change-capture [--quick] [--writes N] [--rounds N] [--seconds N]
 *
 * The machine it ran on may be shared: read ratios and medians, not absolutes.
 */
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { z } from "zod";
import type { Runtime } from "../src/index.js";
import {
  changeCaptureUninstallSql,
  createRuntime,
  defineDocument,
  memoryCacheModule,
  postgresModule,
  redisModule,
  silentLogger,
} from "../src/index.js";
import { InvalidationRouter } from "../src/invalidation/invalidation-router.js";
import { startPrivatePostgres } from "../test/support/private-postgres.js";
import { reportGoals } from "./support/goals.js";
import { removeBenchData } from "./support/leftovers.js";
import { fmt, median, percentile, printTable, writeResults } from "./support/measure.js";
import { renderLineChart } from "./support/svg-line-chart.js";

const run = promisify(execFile);
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const WRITES = option("--writes", quick ? 500 : 5_000);
const ROUNDS = option("--rounds", quick ? 1 : 3);
const SECONDS = option("--seconds", quick ? 3 : 8);
const ROWS = 100_000;
const BATCH = 50;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TABLE = "bench_capture";

const docs = defineDocument({
  name: TABLE,
  fields: z.object({ n: z.number().int(), v: z.number().int() }),
  cache: { ttl: "5m", l1: { ttl: "1m", capacity: 1_000 } },
});

type Variant = "none" | "outbox" | "logical";

const server = await startPrivatePostgres({
  wal_level: "logical",
  max_wal_senders: "4",
  shared_buffers: "128MB",
  synchronous_commit: "on",
});
if (server === undefined) throw new Error("no Postgres binaries (initdb, pg_ctl) for a private server");
const sql = new pg.Client({ connectionString: server.url });
await sql.connect();
const namespace = `bench:capture:${process.pid}`;
const started: Runtime[] = [];

/** A runtime routing the bench table: a relay (when `capture`), push on when `push`. */
async function runtime(capture: Variant, relay: boolean, push: boolean, extra: Record<string, unknown> = {}) {
  const documents = { [TABLE]: capture === "none" ? {} : { changeCapture: capture === "logical" ? "logical" : true } };
  const r = createRuntime({
    modules: [
      postgresModule({
        url: server!.url,
        documents: documents as never,
        changeRelay: { enabled: relay && capture !== "none", ...extra },
      }),
      push
        ? redisModule({ url: REDIS_URL, caches: { [TABLE]: { namespace, invalidationPush: true } } })
        : memoryCacheModule({ caches: { [TABLE]: { namespace } } }),
    ],
    documents: [docs],
    logger: silentLogger,
  });
  await r.start();
  started.push(r);
  return r;
}

async function stopAll(): Promise<void> {
  for (const r of started.splice(0)) await r.stop();
}

/** Back to a table without capture: triggers, outbox, publication and slot removed. */
async function reset(): Promise<void> {
  await stopAll();
  await sql.query(changeCaptureUninstallSql);
  await sql.query("DROP PUBLICATION IF EXISTS stratacache");
  await sql.query(
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'stratacache'",
  );
}

// ───────────────────────────── 1. write throughput ─────────────────────────────

await sql.query(`CREATE TABLE ${TABLE} (
  id uuid PRIMARY KEY, rev bigint NOT NULL CHECK (rev >= 1),
  incarnation bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
  data jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'))`);
await sql.query(
  `INSERT INTO ${TABLE} (id, rev, data) SELECT md5(g::text)::uuid, 1, jsonb_build_object('n', g, 'v', 0)
     FROM generate_series(1, ${ROWS}) g`,
);
await sql.query(`VACUUM ANALYZE ${TABLE}`);
const script = join(tmpdir(), `change-capture-${process.pid}.pgbench.sql`);
writeFileSync(
  script,
  `\\set n random(1, ${ROWS})\nUPDATE ${TABLE} SET data = jsonb_set(data, '{v}', to_jsonb(:n)), rev = rev + 1 WHERE id = md5(:n::text)::uuid;\n`,
);

async function pgbench(): Promise<number> {
  const { stdout } = await run("/usr/lib/postgresql/15/bin/pgbench", [
    ...["-h", "127.0.0.1", "-p", String(server!.port), "-U", "postgres", "-n", "-c", "16", "-j", "2"],
    ...["-T", String(SECONDS), "-f", script, "postgres"],
  ]);
  const tps = /tps = ([\d.]+)/.exec(stdout);
  if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return Number(tps[1]);
}

const tps: Record<Variant, number[]> = { none: [], outbox: [], logical: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of ["none", "outbox", "logical"] as const) {
    await reset();
    if (variant !== "none") await runtime(variant, true, false); // installs capture; its relay drains meanwhile
    tps[variant].push(await pgbench());
  }
}
await reset();
rmSync(script, { force: true });
const base = median(tps.none);
printTable(
  `Write throughput, pgbench ${SECONDS} s × ${ROUNDS} round(s), 16 clients, single-row UPDATEs of ${ROWS.toLocaleString()} rows`,
  ["variant", "tps per run", "median tps", "vs no capture"],
  (["none", "outbox", "logical"] as const).map((v) => [
    v === "none" ? "no capture" : v === "outbox" ? "trigger outbox + relay" : "logical slot + consumer",
    tps[v].map((t) => fmt(t, 0)).join(", "),
    fmt(median(tps[v]), 0),
    v === "none" ? "—" : `${fmt((median(tps[v]) / base - 1) * 100)} %`,
  ]),
);

// ───────────────────────────── 2. invalidation lag ─────────────────────────────

/** B's router: every key it is handed, with when. */
const arrivals = new Map<string, number[]>();
const original = InvalidationRouter.prototype.invalidate;
InvalidationRouter.prototype.invalidate = function (this: InvalidationRouter, keys) {
  original.call(this, keys);
  const at = performance.now();
  if (keys === null) return;
  for (const key of keys) {
    const id = key.slice(key.lastIndexOf("{") + 1, -1);
    const list = arrivals.get(id);
    if (list) list.push(at);
    else arrivals.set(id, [at]);
  }
};

async function lag(variant: "doorbell" | "poll" | "logical"): Promise<number[]> {
  await reset();
  const mode = variant === "logical" ? "logical" : "outbox";
  const b = await runtime(mode, false, true);
  const relay = await runtime(mode, true, true, variant === "poll" ? { doorbell: false } : {});
  const query = b.context().document.query(docs);
  const ids = (await sql.query(`SELECT id FROM ${TABLE} ORDER BY id LIMIT ${BATCH}`)).rows.map((r) => r.id as string);
  const lags: number[] = [];
  for (let done = 0; done < WRITES; done += BATCH) {
    await query.getMany(ids); // every entry in L2, so the relay's fence changes a tracked key
    await new Promise((resolve) => setTimeout(resolve, 20)); // the fills' own echoes arrive first
    const committed = new Map<string, readonly [sent: number, returned: number]>();
    for (const id of ids) {
      const sent = performance.now();
      await sql.query(`UPDATE ${TABLE} SET data = jsonb_set(data, '{v}', to_jsonb($2::int)) WHERE id = $1`, [id, done]);
      committed.set(id, [sent, performance.now()]);
      if (variant === "doorbell") await sql.query("SELECT pg_notify('stratacache_outbox', '')");
    }
    const deadline = performance.now() + 10_000;
    for (const [id, [sent, returned]] of committed) {
      for (;;) {
        // The slot may stream a commit before its reply reaches the writer: lag can be negative, as in push-lag.
        const seen = arrivals.get(id)?.find((t) => t >= sent);
        if (seen !== undefined) {
          lags.push(seen - returned);
          break;
        }
        if (performance.now() > deadline) {
          const stats = JSON.stringify(relay.stats().changeCapture[TABLE]);
          throw new Error(`${variant}: no invalidation of ${id} within 10 s (relay: ${stats})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    arrivals.clear();
  }
  return lags;
}

const lags = { doorbell: await lag("doorbell"), poll: await lag("poll"), logical: await lag("logical") };
await reset();
const names = { doorbell: "outbox + doorbell", poll: "outbox, poll only (250 ms)", logical: "logical slot" };
printTable(
  `Invalidation lag, COMMIT returned → replica B's push router has the key (${WRITES} out-of-band writes each, ms)`,
  ["variant", "p50", "p99", "max"],
  (["doorbell", "poll", "logical"] as const).map((v) => [
    names[v],
    fmt(percentile(lags[v], 50), 2),
    fmt(percentile(lags[v], 99), 2),
    fmt(Math.max(...lags[v]), 2),
  ]),
);

const outboxCost = 1 - median(tps.outbox) / base;
const logicalCost = 1 - median(tps.logical) / base;
reportGoals([
  {
    goal: `doorbell lag p99 < 20 ms (${fmt(percentile(lags.doorbell, 99), 2)} ms)`,
    met: percentile(lags.doorbell, 99) < 20,
  },
  {
    goal: `logical lag p99 < 20 ms (${fmt(percentile(lags.logical, 99), 2)} ms)`,
    met: percentile(lags.logical, 99) < 20,
  },
  { goal: `outbox costs ≤ 25 % of write throughput (${fmt(outboxCost * 100)} %)`, met: outboxCost <= 0.25 },
  { goal: `logical costs ≤ 5 % of write throughput (${fmt(logicalCost * 100)} %)`, met: logicalCost <= 0.05 },
]);

const svg = renderLineChart({
  title: "Write throughput with change capture, % of no capture (each run)",
  xLabel: "run",
  yLabel: "% of median no-capture tps",
  series: [
    { name: "no capture", color: "#444", points: tps.none.map((t, i) => [i + 1, (t / base) * 100] as const) },
    { name: "trigger outbox", color: "#d62728", points: tps.outbox.map((t, i) => [i + 1, (t / base) * 100] as const) },
    { name: "logical", color: "#1f77b4", points: tps.logical.map((t, i) => [i + 1, (t / base) * 100] as const) },
  ],
});
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), "results", "change-capture.svg"), svg);
const summary = (values: number[]) => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  max: Math.max(...values),
  n: values.length,
});
writeResults("change-capture", {
  sharedMachine: true,
  seconds: SECONDS,
  rounds: ROUNDS,
  tps,
  lagMs: { doorbell: summary(lags.doorbell), poll: summary(lags.poll), logical: summary(lags.logical) },
});
console.log("Wrote bench/results/change-capture.json and bench/results/change-capture.svg.");
await sql.end();
// The private server goes with its data directory; the keys go from the Redis, which may be yours.
await removeBenchData(server.url, REDIS_URL, { tables: [TABLE], keyPattern: `${namespace}*` });
await server.stop();
process.exit(0);

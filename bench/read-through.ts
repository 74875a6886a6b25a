/**
 * Read-through cost against the raw clients, side by side in one run (each row's goal: `limit`):
 *   L2 hit (L1 off)          vs ioredis GET + JSON.parse            latency, and throughput at 64 concurrent
 *   miss                     vs pg SELECT by id + ioredis SET
 *   getMany(100) warm/cold   vs MGET + JSON.parse / id = ANY($1) + pipelined SET
 *   sealing (support/sealing-rows.ts): L2 hit and getMany(100) of 1 KiB documents sealed vs plain; L2 hit and Redis
 *   bytes of 20 KiB documents gzip vs plain (here the "raw" column is the plain runtime)
 *   L2 hit, observed         diagnostics subscriber / OTel adapter (SDK in-memory) vs nobody listening
 * Each run measures every row, interleaved, so machine noise hits both sides alike; the table shows medians over
 * the runs and the ratio of medians. Uses DATABASE_URL / REDIS_URL, else the local servers. Also writes
 * bench/results/read-through.svg.
 *
 *   npm run bench -- read-through [--runs 5] [--quick]
 */
import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../src/index.js";
import { entryPrefix, idKey } from "../src/l2/key-layout.js";
import { reportGoals } from "./support/goals.js";
import { fmt, latencyUs, median, preparedLatencyUs, printTable, throughput, writeResults } from "./support/measure.js";
import { observed } from "./support/observers.js";
import { measureSealing } from "./support/sealing-rows.js";
import { writeBarChart } from "./support/svg-bar-chart.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runsArg = args.indexOf("--runs");
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : quick ? 3 : 5;
const scale = quick ? 0.2 : 1;
const n = (count: number) => Math.max(20, Math.round(count * scale));

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TABLE = "bench_read_through";
const NAMESPACE = `bench:rt:${process.pid}`;

const products = defineDocument({
  name: "products",
  fields: z.object({ name: z.string(), price: z.number().int(), tags: z.array(z.string()) }),
  cache: { ttl: "1h" },
});

const runtime = createRuntime({
  modules: [
    postgresModule({ url: DATABASE_URL, documents: { products: { table: TABLE } } }),
    redisModule({ url: REDIS_URL, caches: { products: { namespace: NAMESPACE } } }),
  ],
  logger: silentLogger,
});
await runtime.start();
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const redis = new Redis(REDIS_URL);

const ctx = runtime.context();
const query = ctx.document.query(products);
const docs = ctx.document.command(products);
const ids: string[] = [];
for (let i = 0; i < 300; i++) {
  const doc = await docs.create({ name: `product ${i}`, price: i, tags: ["bench", `t${i % 7}`] });
  ids.push(doc.id);
}
const entryKey = (id: string) => idKey(entryPrefix(NAMESPACE, products.fingerprint), id);
const rawKey = (id: string) => `bench:raw:${process.pid}:{${id}}`;
const selectOne = `SELECT id, rev, created_at, updated_at, data FROM ${TABLE} WHERE id = $1`;
const selectMany = `SELECT id, rev, created_at, updated_at, data FROM ${TABLE} WHERE id = ANY($1::uuid[])`;
const rowJson = (row: Record<string, unknown>) => JSON.stringify(row);
for (const id of ids) {
  const { rows } = await pool.query(selectOne, [id]);
  await redis.set(rawKey(id), rowJson(rows[0]), "PX", 3_600_000);
}
await query.getMany(ids); // warm L2
const pick = (i: number) => ids[i % ids.length] as string;
const batch = (i: number) => Array.from({ length: 100 }, (_, j) => pick(i * 7 + j));

/** `limit`: the goal's bound on the ratio stratacache / raw (an upper bound for "lower", a floor for "higher"). */
type Row = {
  name: string;
  unit: string;
  ours: number[];
  raw: number[];
  goal: string;
  limit: number;
  better: "lower" | "higher";
};
const rows: Row[] = [
  { name: "L2 hit latency", unit: "µs/op", ours: [], raw: [], goal: "≤ 1.1×", limit: 1.1, better: "lower" },
  {
    name: "L2 hit throughput, 64 concurrent",
    unit: "ops/s",
    ours: [],
    raw: [],
    goal: "≥ 1×",
    limit: 1,
    better: "higher",
  },
  { name: "miss (Postgres + fill)", unit: "µs/op", ours: [], raw: [], goal: "≤ 1.3×", limit: 1.3, better: "lower" },
  { name: "getMany(100) warm", unit: "µs/op", ours: [], raw: [], goal: "≤ 1.2×", limit: 1.2, better: "lower" },
  { name: "getMany(100) cold", unit: "µs/op", ours: [], raw: [], goal: "≤ 1.15×", limit: 1.15, better: "lower" },
  // "raw" here is the same L2 hit with nobody listening: the observers' own cost.
  {
    name: "L2 hit, diagnostics subscriber vs none",
    unit: "µs/op",
    ours: [],
    raw: [],
    goal: "≤ 1.05×",
    limit: 1.05,
    better: "lower",
  },
  {
    name: "L2 hit, OTel adapter vs none",
    unit: "µs/op",
    ours: [],
    raw: [],
    goal: "≤ 1.1×",
    limit: 1.1,
    better: "lower",
  },
];
const [hit, hitTput, miss, manyWarm, manyCold, hitDiag, hitOtel] = rows as [Row, Row, Row, Row, Row, Row, Row];

// Warm-up: let V8 optimise both sides before anything is recorded.
await latencyUs(n(2000), (i) => query.get(pick(i)));
await latencyUs(n(2000), async (i) => JSON.parse((await redis.get(rawKey(pick(i)))) as string));

for (let run = 0; run < runs; run++) {
  hit.raw.push(await latencyUs(n(4000), async (i) => JSON.parse((await redis.get(rawKey(pick(i)))) as string)));
  hit.ours.push(await latencyUs(n(4000), (i) => query.get(pick(i))));

  hitTput.ours.push(await throughput(n(30000), 64, (i) => query.get(pick(i))));
  hitTput.raw.push(
    await throughput(n(30000), 64, async (i) => JSON.parse((await redis.get(rawKey(pick(i)))) as string)),
  );

  miss.ours.push(
    await preparedLatencyUs(
      n(400),
      (i) => redis.del(entryKey(pick(i))),
      (i) => query.get(pick(i)),
    ),
  );
  miss.raw.push(
    await preparedLatencyUs(
      n(400),
      (i) => redis.del(rawKey(pick(i))),
      async (i) => {
        const { rows: found } = await pool.query(selectOne, [pick(i)]);
        await redis.set(rawKey(pick(i)), rowJson(found[0]), "PX", 3_600_000);
      },
    ),
  );

  manyWarm.ours.push(await latencyUs(n(300), (i) => query.getMany(batch(i))));
  manyWarm.raw.push(
    await latencyUs(n(300), async (i) => {
      const values = await redis.mget(batch(i).map(rawKey));
      return values.map((v) => JSON.parse(v as string));
    }),
  );

  manyCold.ours.push(
    await preparedLatencyUs(
      n(100),
      (i) => redis.del(...batch(i).map(entryKey)),
      (i) => query.getMany(batch(i)),
    ),
  );
  manyCold.raw.push(
    await preparedLatencyUs(
      n(100),
      (i) => redis.del(...batch(i).map(rawKey)),
      async (i) => {
        const { rows: found } = await pool.query(selectMany, [batch(i)]);
        const pipeline = redis.pipeline();
        for (const row of found) pipeline.set(rawKey(row.id as string), rowJson(row), "PX", 3_600_000);
        await pipeline.exec();
      },
    ),
  );
  // Each side warms up first, observer attached: the observed paths run only while it is, and would otherwise be
  // measured partly before V8 optimises them (a subscriber stays attached in production).
  const warmedHit = async () => {
    await latencyUs(n(1000), (i) => query.get(pick(i)));
    return latencyUs(n(4000), (i) => query.get(pick(i)));
  };
  hitDiag.raw.push(await warmedHit());
  hitDiag.ours.push(await observed("diagnostics subscriber", warmedHit));
  hitOtel.raw.push(await warmedHit());
  hitOtel.ours.push(await observed("OTel adapter", warmedHit));
  process.stdout.write(`run ${run + 1}/${runs} done\n`);
}

const sealing = await measureSealing(DATABASE_URL, REDIS_URL, redis, runs, n);
rows.push(...sealing.rows);

const table = rows.map((row) => {
  const ours = median(row.ours);
  const raw = median(row.raw);
  const ratio = ours / raw;
  const met = row.better === "lower" ? ratio <= row.limit : ratio >= row.limit;
  return { ...row, oursMedian: ours, rawMedian: raw, ratio, met };
});
printTable(
  `read-through vs raw clients — medians of ${runs} runs (Postgres: ${new URL(DATABASE_URL).host}, Redis: ${new URL(REDIS_URL).host})`,
  ["what", "unit", "stratacache", "raw", "ratio", "goal", "verdict"],
  table.map((r) => [
    r.name,
    r.unit,
    fmt(r.oursMedian),
    fmt(r.rawMedian),
    `${fmt(r.ratio, 2)}×`,
    r.goal,
    r.met ? "met" : "MISSED",
  ]),
);
// Latencies are means of sequential calls (the goals state p50); the peers' columns are not measured here.
const goals = table.map((r) => ({ goal: `${r.name}: ${r.goal} raw (${fmt(r.ratio, 2)}×)`, met: r.met }));
const goalMet = reportGoals(goals);
const file = writeResults("read-through", {
  runs,
  quick,
  at: new Date().toISOString(),
  node: process.version,
  goals,
  goalMet,
  rows: table.map(({ name, unit, ours, raw, oursMedian, rawMedian, ratio, goal, met }) => ({
    name,
    unit,
    runs: { stratacache: ours, raw },
    median: { stratacache: oursMedian, raw: rawMedian },
    ratio,
    goal,
    met,
  })),
  stats: query.stats(),
});
const chart = writeBarChart("read-through", {
  title: `read-through vs raw clients — medians of ${runs} runs (µs/op: lower is better; ops/s: higher)`,
  unit: "",
  bars: table.flatMap((r) => [
    {
      group: `${r.name} (${r.unit})`,
      label: r.name.includes(" vs none") ? "observed" : "stratacache",
      value: r.oursMedian,
    },
    {
      group: `${r.name} (${r.unit})`,
      label: r.name.includes(" vs none") ? "nobody listening" : "raw",
      value: r.rawMedian,
    },
  ]),
});
console.log(`\nwrote ${file} and ${chart}`);

await sealing.cleanup();
await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
await pool.query(`DROP TABLE IF EXISTS bench_sealed_${process.pid}`);
const leftover = await redis.keys(`bench:raw:${process.pid}:*`);
if (leftover.length > 0) await redis.del(...leftover);
const entries = await redis.keys(`${NAMESPACE}:*`);
if (entries.length > 0) await redis.del(...entries);
redis.disconnect();
await pool.end();
await runtime.stop();

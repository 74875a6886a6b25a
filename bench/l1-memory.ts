/**
 * L1 memory: heap bytes per document held in the document L1 (lru and tinylfu), against lru-cache holding the
 * same documents. Goal (issue 19): ≤ 1.1× lru-cache.
 *
 *   npm run bench -- l1-memory            # 100,000 documents
 *   npm run bench -- l1-memory --quick    # 20,000 documents
 *
 * The whole library path: N rows in Postgres (DATABASE_URL, default the local server), the Redis L2 (REDIS_URL,
 * default the local server; its entries live in Redis, not in this heap), and a runtime whose document L1 holds
 * N entries. Per policy, the heap plus ArrayBuffers (after full GCs) is read before and after
 * - "filled": getMany in batches of 500 brings every document into L1;
 * - "filled + read": then one `query.get` of each (an async L1 hit: what a served entry holds).
 * The baseline: lru-cache (max N) holding copies of the same documents made the way a plain client would (JSON.parse,
 * two Dates, frozen; structuredClone is not used: its objects are larger), so the documents count on both sides. Writes bench/results/l1-memory.json and .svg.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { LRUCache } from "lru-cache";
import pg from "pg";
import { z } from "zod";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../src/index.js";
import type { L1PolicyName } from "../src/l1/l1-store.js";
import { reportGoals } from "./support/goals.js";
import { removeBenchData } from "./support/leftovers.js";
import { fmt, printTable, writeResults } from "./support/measure.js";
import { writeBarChart } from "./support/svg-bar-chart.js";

const quick = process.argv.includes("--quick");
const N = quick ? 20_000 : 100_000;
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TABLE = `bench_l1_memory_${process.pid}`;
const NAMESPACE = `bench:l1mem:${process.pid}`;
const GOAL = 1.1;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** Heap in use plus ArrayBuffer backing stores (typed-array links and deadlines live there, off the V8 heap). */
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const fields = z.object({ name: z.string(), price: z.number().int(), tags: z.array(z.string()) });
/** Rows used only to warm the runtime's lazy structures before the heap is read. */
const WARM = 1000;

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });

/** A copy the way a client decoding the same JSON would hold it; its id string is its own, as in our L1. */
function copyDocument(doc: unknown): { id: string } {
  const copy = JSON.parse(JSON.stringify(doc)) as { id: string; createdAt: unknown; updatedAt: unknown };
  copy.createdAt = new Date(copy.createdAt as string);
  copy.updatedAt = new Date(copy.updatedAt as string);
  return Object.freeze(copy);
}

interface Measured {
  readonly policy: L1PolicyName;
  readonly filled: number;
  readonly read: number;
  readonly raw: number;
}

async function measure(
  policy: L1PolicyName,
  warm: ReadonlyArray<string>,
  ids: ReadonlyArray<string>,
): Promise<Measured> {
  const spec = defineDocument({
    name: "products",
    fields,
    cache: { ttl: "1h", l1: { ttl: "10m", capacity: WARM + N, policy } },
  });
  const runtime = createRuntime({
    modules: [
      postgresModule({ url: DATABASE_URL, documents: { products: { table: TABLE } } }),
      redisModule({ url: REDIS_URL, caches: { products: { namespace: `${NAMESPACE}:${policy}` } } }),
    ],
    logger: silentLogger,
  });
  await runtime.start();
  const query = runtime.context().document.query(spec);
  // Warm every lazy structure (connections, prepared statements, script caches) on other ids.
  await query.getMany(warm);
  for (const id of warm) await query.get(id);
  await runtime.settled();
  const before = heapUsed();
  for (let i = 0; i < ids.length; i += 500) await query.getMany(ids.slice(i, i + 500));
  await runtime.settled(); // L1 takes each document once its L2 fill has landed, right behind the read
  const filled = heapUsed();
  for (const id of ids) await query.get(id);
  const read = heapUsed();
  const size = query.stats().l1?.size ?? 0;
  if (size !== WARM + ids.length) throw new Error(`${policy}: L1 holds ${size}, expected ${WARM + ids.length}`);
  // The same documents, cloned (keys too: each entry owns its id string, as in our L1), in lru-cache.
  const rawBefore = heapUsed();
  const lru = new LRUCache<string, object>({ max: N });
  for (const id of ids) {
    const doc = copyDocument(query.peek(id));
    lru.set(doc.id, doc);
  }
  const rawAfter = heapUsed();
  if (lru.size !== ids.length) throw new Error("lru-cache lost entries");
  await runtime.stop();
  return {
    policy,
    filled: (filled - before) / ids.length,
    read: (read - before) / ids.length,
    raw: (rawAfter - rawBefore) / ids.length,
  };
}

try {
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
  // The runtime creates the table; rows go in with one INSERT … SELECT (fast, and the same shape create() writes).
  const setup = createRuntime({
    modules: [postgresModule({ url: DATABASE_URL, documents: { products: { table: TABLE } } })],
    logger: silentLogger,
  });
  await setup.start();
  await setup.stop();
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO ${TABLE} (id, rev, data)
     SELECT gen_random_uuid(), 1, jsonb_build_object('name', 'product ' || i, 'price', i,
       'tags', jsonb_build_array('bench', 't' || (i % 7)))
     FROM generate_series(1, $1) AS i RETURNING id`,
    [WARM + N],
  );
  const warm = rows.slice(0, WARM).map((row) => row.id);
  const ids = rows.slice(WARM).map((row) => row.id);
  const results: Measured[] = [];
  for (const policy of ["lru", "tinylfu"] as const) results.push(await measure(policy, warm, ids));

  printTable(
    `L1 heap per entry, ${N.toLocaleString("en-US")} documents (bytes, documents included)`,
    ["policy", "filled", "filled + read once", "lru-cache (same docs)", "ratio (read)", "goal"],
    results.map((r) => [
      r.policy,
      fmt(r.filled, 0),
      fmt(r.read, 0),
      fmt(r.raw, 0),
      `${fmt(r.read / r.raw, 2)}×`,
      `≤ ${GOAL}×`,
    ]),
  );
  const file = writeResults("l1-memory", { date: new Date().toISOString(), entries: N, results });
  const chart = writeBarChart("l1-memory", {
    title: `L1 heap per entry (${N.toLocaleString("en-US")} documents), bytes`,
    unit: "B",
    bars: results.flatMap((r) => [
      { group: r.policy, label: "stratacache L1, filled", value: r.filled },
      { group: r.policy, label: "stratacache L1, filled + read once", value: r.read },
      { group: r.policy, label: "lru-cache holding the same documents", value: r.raw },
    ]),
  });
  reportGoals(
    results.map((r) => ({
      goal: `heap per L1 entry (${r.policy}, read once) ≤ ${GOAL}× lru-cache holding the same documents (${fmt(r.read / r.raw, 2)}×)`,
      met: r.read / r.raw <= GOAL,
    })),
  );
  console.log(`\nwrote ${file} and ${chart}`);
} finally {
  await pool.end();
  await removeBenchData(DATABASE_URL, REDIS_URL, { tables: [TABLE], keyPattern: `${NAMESPACE}:*` });
}

/**
 * Where an L2 hit's time goes: the lone read (`query.get`, L1 off) and the 100-id batch (`getMany`), each built up
 * rung by rung from the raw client to the library's call, interleaved finely enough that the difference between two
 * adjacent rungs is the cost of one layer in place.
 *
 *   npm run build                                        # first: this benchmark measures dist/
 *   npm run bench -- l2-layers [--quick]                 # --quick: about 20 s
 *   npm run bench -- l2-layers --against dist-base       # adds the top rungs from another build (an A/B of two builds)
 *   npm run bench -- l2-layers --cliff                   # first subclasses String, as node-redis 5 does (see below)
 *
 * Why: the peers benchmark runs each contender for a whole turn of 2,000 reads, so on a shared machine a ratio moves
 * ±10% between runs, and a microbenchmark of one layer misses what it costs between two system calls, with the
 * caches cold. Here every round runs 100 lone reads (10 batches) of each rung, in a shuffled order, over many rounds
 * on one private Redis; each rung's p50 is over all its samples and its ratio to raw is the median of the per-round
 * ratios. Two builds of the same code (`--against`) read 1.01 apart on the lone read and 1.03–1.04 on batches.
 *
 * Rungs, each one layer more than the one above it:
 *   raw                ioredis 5 GET of the row as JSON (id, rev, timestamps, data), JSON.parse (the peers' raw)
 *   our key and value  the same client, our entry key; JSON.parse of the body after the envelope header (skipped)
 *   our client         stratacache's ioredis client (a deadline on every command); the header decoded and checked
 *   document decode    the document built as callers get it: id and rev checked, two Dates, deep-frozen (a batch's
 *                      bodies parsed in one JSON.parse, as the read-through does)
 *   entry store        the L2 port's read (the single-read batcher), then the same decode
 *   coordinator        the read-through: single flight, freshness decision, stats
 *   query.get          the public call: id validation, NotFoundError
 * and for batches the same with MGET (our client reads bytes and decodes each envelope in place).
 *
 * An A/B of two builds: build the base (say, main), `cp -r dist dist-base` (ignored by git; inside the checkout, so
 * its imports resolve to this node_modules), build the change, then `--against dist-base`: its `query.get` and
 * `getMany` join the ladder as a last rung each, interleaved with everything else ("÷ previous" is then the ratio of
 * the base build to this one).
 *
 * `--cliff`: once any object in the process has `String.prototype` as a prototype (node-redis 5's `class VerbatimString
 * extends String`; the peers benchmark loads it for two peers, and so does any app that uses it), V8 stops inlining
 * `charCodeAt` for good. The flag makes one such object before anything runs, so an A/B can be read in both worlds.
 *
 * Reaches into dist/ internals (the coordinator behind a query, its entry store) on purpose: a diagnostic of the
 * layering, not an API. It has no goals of its own (the peers benchmark judges issue 19's); it prints the bounds for
 * reference. Uses DATABASE_URL (else the local Postgres); spawns its own redis-server. Writes
 * bench/results/l2-layers.json and bench/results/l2-layers.svg.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
import type * as Strata from "../src/index.js";
import type { DocumentEntryStore, EntryRead } from "../src/l2/document-entry.js";
import type * as Envelope from "../src/l2/entry-envelope.js";
import type * as Deadline from "../src/l2/redis/deadline-redis.js";
import type * as Codec from "../src/read-through/document-codec.js";
import { startRedis } from "../test/support/redis.js";
import { importDist, requireBuiltDist } from "./support/built-dist.js";
import { fmt, median, percentile, printTable, writeResults } from "./support/measure.js";
import { writeBarChart } from "./support/svg-bar-chart.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const againstArg = args.indexOf("--against");
const against = againstArg >= 0 ? args[againstArg + 1] : undefined;
const cliff = args.includes("--cliff");
if (cliff) {
  class SubclassedString extends String {}
  // Kept reachable for the run, like a library's own instances would be.
  (globalThis as { __stringSubclass?: unknown }).__stringSubclass = new SubclassedString("");
}
const ROUNDS = quick ? 60 : 200;
const LONE_OPS = 100; // lone reads per rung per round
const BATCH_OPS = 10; // batches of 100 per rung per round
const DOCS = 300;
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

requireBuiltDist("l2-layers");
const strata = await importDist<typeof Strata>("index.js");
const { DeadlineRedis } = await importDist<typeof Deadline>("l2/redis/deadline-redis.js");
const { decodeEntry, decodeEntryBytes } = await importDist<typeof Envelope>("l2/entry-envelope.js");
const { decodeBody, decodeParsed, parseBodies } = await importDist<typeof Codec>("read-through/document-codec.js");
const otherDist = against === undefined ? undefined : resolve(against);
if (otherDist !== undefined && !existsSync(join(otherDist, "index.js"))) {
  console.error(`--against: ${otherDist}/index.js is missing (give the dist/ directory of another build)`);
  process.exit(1);
}

/** What this benchmark reads behind a query (dist/ internals; see the header). */
interface Internals {
  readonly coordinator: {
    get(scope: unknown, id: string, options: undefined): Promise<unknown>;
    getMany(scope: unknown, ids: ReadonlyArray<string>, options: undefined): Promise<unknown[]>;
    readonly parts: { readonly entries: EntryStore | undefined };
  };
  readonly scope: unknown;
}
/** The Redis entry store behind the query: the L2 port, plus the key of an id. */
type EntryStore = DocumentEntryStore & { key(id: string): string };

function internals(query: unknown): Internals & { readonly entries: EntryStore } {
  const inside = query as Partial<Internals>;
  const entries = inside.coordinator?.parts?.entries;
  if (entries === undefined || typeof entries.readMany !== "function" || inside.scope === undefined) {
    throw new Error("bench/l2-layers.ts: the query's internals moved (coordinator.parts.entries); update this bench");
  }
  return { coordinator: inside.coordinator as Internals["coordinator"], scope: inside.scope, entries };
}

/** A decoded body, or a failure naming the rung (every rung must answer a document). */
function documentOf(rung: string, read: EntryRead, id: string, parsed?: unknown): Codec.FrozenDocument {
  const doc =
    typeof read === "string"
      ? undefined
      : parsed === undefined
        ? decodeBody(read.body, id, read.rev)
        : decodeParsed(parsed, id, read.rev);
  if (doc === undefined) throw new Error(`${rung}: ${id} did not decode (${typeof read === "string" ? read : "body"})`);
  return doc;
}

/** A batch's documents as the coordinator decodes them: the bodies parsed at once (parseBodies), then each checked. */
function documentsOf(
  rung: string,
  reads: ReadonlyArray<EntryRead>,
  ids: ReadonlyArray<string>,
): Codec.FrozenDocument[] {
  const parsed = parseBodies(reads);
  return reads.map((read, j) => documentOf(rung, read, ids[j] as string, parsed?.[j]));
}

const redisServer = await startRedis();
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
const raw = new Redis(redisServer.url);
const ours = new DeadlineRedis(redisServer.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }, 250);
const runtimes: Strata.Runtime[] = [];
const tables: string[] = [];
const fields = z.object({ name: z.string(), price: z.number().int(), tags: z.array(z.string()) });

/** A runtime of `build` on a table of its own, its documents read once so that L2 holds them all. */
async function warmRuntime(build: typeof Strata, tag: string) {
  const table = `bench_l2_layers_${tag}_${process.pid}`;
  tables.push(table);
  const spec = build.defineDocument({ name: `layers_${tag}`, fields, cache: { ttl: "1h" } });
  const runtime = build.createRuntime({
    modules: [
      build.postgresModule({ url: DATABASE_URL, documents: { [spec.name]: { table } } }),
      build.redisModule({
        url: redisServer.url,
        timeoutMs: 250,
        caches: { [spec.name]: { namespace: `layers-${tag}` } },
      }),
    ],
    logger: build.silentLogger,
  });
  runtimes.push(runtime);
  await runtime.start();
  await pool.query(
    `INSERT INTO ${table} (id, rev, data) SELECT gen_random_uuid(), 1, jsonb_build_object('name', 'product ' || g,
     'price', g, 'tags', jsonb_build_array('bench', 't' || (g % 7))) FROM generate_series(1, ${DOCS}) g`,
  );
  const rows = (await pool.query(`SELECT id, rev, created_at, updated_at, data FROM ${table}`)).rows;
  const query = runtime.context().document.query(spec);
  await query.getMany(rows.map((row) => row.id as string));
  await runtime.settled(); // the fills landed
  return { query, rows, ids: rows.map((row) => row.id as string) };
}

/**
 * A new order of the rungs each round (Fisher–Yates on a seeded generator): with a rotation, each rung would always
 * follow the same one and pay for its garbage (the next scavenge lands in whoever allocates next).
 */
let seed = 0x9e3779b9;
function shuffle(order: number[]): void {
  for (let i = order.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
}

interface Rung {
  readonly name: string;
  readonly adds: string;
  readonly op: (i: number) => Promise<unknown>;
  /** The id (or the ids, joined) a result carries: checked against what was asked, once, before timing. */
  readonly idOf: (result: unknown) => string | undefined;
  /** What read `i` asks for, when not the workload's own ids (the other build's documents). */
  readonly asked?: (i: number) => string;
}

try {
  await ours.connect();
  const mine = await warmRuntime(strata, "this");
  const other =
    otherDist === undefined
      ? undefined
      : await warmRuntime(await importDist<typeof Strata>("index.js", otherDist), "other");
  const { ids, rows } = mine;
  const inside = internals(mine.query);
  const { entries } = inside;
  for (const row of rows) await raw.set(`raw:${row.id}`, JSON.stringify(row));
  const sample = (await raw.get(entries.key(ids[0] as string))) ?? "";
  const fingerprint = sample.split("|")[1] ?? "";
  const fingerprintBytes = Buffer.from(fingerprint);
  const entryKeys = ids.map((id) => entries.key(id));
  const bodyOf = (value: string | null) => (value ?? "").slice((value ?? "").indexOf("{"));
  const id = (i: number) => ids[i % DOCS] as string;
  const key = (i: number) => entryKeys[i % DOCS] as string;
  const batchAt = (i: number) => Array.from({ length: 100 }, (_, j) => (i * 7 + j) % DOCS);
  const docId = (result: unknown) => (result as { id?: string } | undefined)?.id;
  /** The entries at positions `at` through our client, as bytes decoded in place (as `readMany` does). */
  const entriesAt = async (rung: string, at: ReadonlyArray<number>) =>
    (await ours.mgetBuffer(at.map((k) => entryKeys[k] as string))).map((value) => {
      const read = value === null ? "miss" : decodeEntryBytes(fingerprintBytes, value);
      if (typeof read === "string") throw new Error(`${rung}: not an entry (${read})`);
      return read;
    });
  const envelope = (rung: string, value: string | null) => {
    const read = value === null ? "miss" : decodeEntry(fingerprint, value);
    if (typeof read === "string") throw new Error(`${rung}: not an entry (${read})`);
    return read;
  };

  const lone: Rung[] = [
    {
      name: "raw",
      adds: "GET + JSON.parse",
      op: async (i) => JSON.parse((await raw.get(`raw:${id(i)}`)) ?? "null"),
      idOf: docId,
    },
    {
      name: "our key and value",
      adds: "entry key, envelope",
      op: async (i) => JSON.parse(bodyOf(await raw.get(key(i)))),
      idOf: docId,
    },
    {
      name: "our client",
      adds: "command deadline, header decoded",
      op: async (i) => JSON.parse(envelope("our client", await ours.get(key(i))).body),
      idOf: docId,
    },
    {
      name: "document decode",
      adds: "id/rev checks, Dates, deep freeze",
      op: async (i) => documentOf("document decode", envelope("document decode", await ours.get(key(i))), id(i)),
      idOf: docId,
    },
    {
      name: "entry store",
      adds: "L2 port (batcher)",
      op: async (i) => documentOf("entry store", await entries.read(id(i)), id(i)),
      idOf: docId,
    },
    {
      name: "coordinator",
      adds: "single flight, freshness, stats",
      op: (i) => inside.coordinator.get(inside.scope, id(i), undefined),
      idOf: docId,
    },
    { name: "query.get", adds: "id validation, NotFoundError", op: (i) => mine.query.get(id(i)), idOf: docId },
  ];
  if (other !== undefined) {
    lone.push({
      name: "query.get (--against)",
      adds: "the other build",
      op: (i) => other.query.get(other.ids[i % DOCS] as string),
      idOf: docId,
      asked: (i) => other.ids[i % DOCS] as string,
    });
  }
  const idsOf = (result: unknown) => (result as Array<{ id?: string }>).map((doc) => doc?.id).join(",");
  const batchIds = (i: number) => batchAt(i).map((k) => ids[k] as string);
  const many: Rung[] = [
    {
      name: "raw",
      adds: "MGET + JSON.parse",
      op: async (i) => (await raw.mget(batchIds(i).map((x) => `raw:${x}`))).map((text) => JSON.parse(text ?? "null")),
      idOf: idsOf,
    },
    {
      name: "our key and value",
      adds: "entry keys, envelopes",
      op: async (i) =>
        (await raw.mget(batchAt(i).map((k) => entryKeys[k] as string))).map((v) => JSON.parse(bodyOf(v))),
      idOf: idsOf,
    },
    {
      name: "our client",
      adds: "deadline, bytes, headers decoded",
      op: async (i) => (await entriesAt("our client", batchAt(i))).map((entry) => JSON.parse(entry.body)),
      idOf: idsOf,
    },
    {
      name: "document decode",
      adds: "one parse; id/rev checks, Dates, freeze",
      op: async (i) => {
        const at = batchAt(i);
        const found = await entriesAt("document decode", at);
        return documentsOf(
          "document decode",
          found,
          at.map((k) => ids[k] as string),
        );
      },
      idOf: idsOf,
    },
    {
      name: "entry store",
      adds: "L2 port (readMany)",
      op: async (i) => {
        const batch = batchIds(i);
        return documentsOf("entry store", await entries.readMany(batch), batch);
      },
      idOf: idsOf,
    },
    {
      name: "coordinator",
      adds: "single flight, freshness, stats",
      op: (i) => inside.coordinator.getMany(inside.scope, batchIds(i), undefined),
      idOf: idsOf,
    },
    { name: "query.getMany", adds: "ids validated", op: (i) => mine.query.getMany(batchIds(i)), idOf: idsOf },
  ];
  if (other !== undefined) {
    many.push({
      name: "query.getMany (--against)",
      adds: "the other build",
      op: (i) => other.query.getMany(batchAt(i).map((k) => other.ids[k] as string)),
      idOf: idsOf,
      asked: (i) =>
        batchAt(i)
          .map((k) => other.ids[k] as string)
          .join(","),
    });
  }

  /** Every rung answers the documents asked for (checked before timing), then the interleaved rounds. */
  async function ladder(
    workload: string,
    rungs: ReadonlyArray<Rung>,
    opsPerRound: number,
    expectedIds: (i: number) => string,
  ) {
    for (const rung of rungs) {
      for (let i = 0; i < 3; i++) {
        const asked = (rung.asked ?? expectedIds)(i);
        const got = rung.idOf(await rung.op(i));
        if (got !== asked) throw new Error(`${workload}, ${rung.name}: answered ${got} for ${asked}`);
      }
    }
    for (let i = 0; i < 100; i++) for (const rung of rungs) await rung.op(i); // V8 optimises every rung first
    const lookups = () =>
      [mine, other].reduce((sum, build) => {
        const stats = build?.query.stats();
        return stats === undefined
          ? sum
          : sum + stats.l2.misses + stats.l2.errors + stats.source.fetches + stats.source.batchFetches;
      }, 0);
    const lookupsBefore = lookups();
    const samples = rungs.map(() => [] as number[]);
    const perRound = rungs.map(() => [] as number[]);
    let cursor = 0;
    const order = rungs.map((_, r) => r);
    for (let round = 0; round < ROUNDS; round++) {
      shuffle(order);
      for (const r of order) {
        const rung = rungs[r] as Rung;
        const taken: number[] = [];
        for (let i = 0; i < opsPerRound; i++) {
          const start = process.hrtime.bigint();
          await rung.op(cursor++);
          taken.push(Number(process.hrtime.bigint() - start) / 1_000);
        }
        samples[r]?.push(...taken);
        perRound[r]?.push(percentile(taken, 50));
      }
    }
    if (lookups() !== lookupsBefore) throw new Error(`${workload}: a timed read missed L2 or reached Postgres`);
    const rawRounds = perRound[0] as number[];
    return rungs.map((rung, r) => {
      const rounds = perRound[r] as number[];
      return {
        workload,
        rung: rung.name,
        adds: rung.adds,
        p50Us: percentile(samples[r] as number[], 50),
        vsRaw: median(rounds.map((value, j) => value / (rawRounds[j] as number))),
        vsPrevious:
          r === 0 ? 1 : median(rounds.map((value, j) => value / ((perRound[r - 1] as number[])[j] as number))),
      };
    });
  }

  const results = [
    ...(await ladder("L2 hit (lone read)", lone, LONE_OPS, (i) => id(i))),
    ...(await ladder("getMany(100) warm", many, BATCH_OPS, (i) => batchIds(i).join(","))),
  ];
  for (const workload of new Set(results.map((row) => row.workload))) {
    const rowsOf = results.filter((row) => row.workload === workload);
    let previous = Number.NaN;
    printTable(
      `${workload}: p50 over every sample, ${ROUNDS} rounds; ratios are medians of per-round ratios`,
      ["rung", "adds", "p50 µs", "+ µs", "÷ previous", "÷ raw"],
      rowsOf.map((row) => {
        const step = row.p50Us - previous;
        previous = row.p50Us;
        return [
          row.rung,
          row.adds,
          fmt(row.p50Us),
          Number.isFinite(step) ? fmt(step) : "",
          fmt(row.vsPrevious, 3),
          fmt(row.vsRaw, 3),
        ];
      }),
    );
  }
  const top = (workload: string, rung: string) =>
    results.find((row) => row.workload === workload && row.rung === rung)?.vsRaw;
  console.log(
    `\nfor reference (judged by the peers benchmark): issue 19 bounds L2 hit p50 at ≤ 1.1× raw (here ${fmt(top("L2 hit (lone read)", "query.get") ?? Number.NaN, 3)}×) and getMany(100) warm at ≤ 1.2× raw (here ${fmt(top("getMany(100) warm", "query.getMany") ?? Number.NaN, 3)}×)`,
  );
  const file = writeResults("l2-layers", {
    generatedAt: new Date().toISOString(),
    node: process.version,
    quick,
    cliff,
    rounds: ROUNDS,
    against: otherDist ?? null,
    rows: results,
  });
  const chart = writeBarChart("l2-layers", {
    title: "Where an L2 hit's time goes: p50 µs per rung (each adds one layer to the one above)",
    unit: "µs",
    bars: results.map((row) => ({ group: row.workload, label: row.rung, value: row.p50Us })),
  });
  console.log(`\nwrote ${file} and ${chart}`);
} finally {
  for (const runtime of runtimes) await runtime.stop().catch(() => {});
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
  await pool.end();
  raw.disconnect();
  ours.disconnect();
  await redisServer.stop();
}

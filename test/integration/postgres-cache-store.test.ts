/**
 * The Postgres cache store (postgresCacheModule): its document-entry fence makes exactly the in-process store's
 * decisions (which the Lua fence's equivalence test holds equal to Redis); it serves as the L2 of documents for a
 * Postgres-only deployment (a second runtime hits it instead of the document table, a write goes through); the table is UNLOGGED and the
 * sweep deletes dead rows in bounded batches, leaving live values and live version floors.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import type { DocumentEntry, DocumentEntryStore, EntryRead } from "../../src/l2/document-entry.js";
import { idKey } from "../../src/l2/key-layout.js";
import type { MemoryKeyspace } from "../../src/l2/memory/memory-cache-backend.js";
import type { PostgresCacheBackend } from "../../src/l2/postgres/postgres-cache-backend.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { postgresCacheModule } from "../../src/runtime/modules/postgres-cache-module.js";
import { postgresModule } from "../../src/runtime/modules/postgres-module.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, QueryCounter } from "../support/strata.js";

const env = await integrationEnv({ postgres: true });
const FP = "0123456789ab";
const TABLE = "strata_cache";

type Op =
  | { kind: "put" | "writeThrough" | "putMany"; id: number; inc: number; rev: number; fresh: number }
  | { kind: "tombstone"; id: number; inc: number }
  | { kind: "clear"; id: number; inc: number; rev: number }
  | { kind: "evict"; id: number }
  | { kind: "read"; id: number; slide: boolean };

const id = fc.nat(1);
const inc = fc.integer({ min: 1, max: 2 });
const rev = fc.integer({ min: 1, max: 3 });
const fresh = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("put" as const, "writeThrough" as const, "putMany" as const),
    id,
    inc,
    rev,
    fresh,
  }),
  fc.record({ kind: fc.constant("tombstone" as const), id, inc }),
  fc.record({ kind: fc.constant("clear" as const), id, inc, rev }),
  fc.record({ kind: fc.constant("evict" as const), id }),
  fc.record({ kind: fc.constant("read" as const), id, slide: fc.boolean() }),
);

const entry = (incarnation: number, rev: number, fresh: number): DocumentEntry => ({
  incarnation,
  rev,
  fetchedAt: 1,
  delta: 0,
  freshUntil: 1_000 + fresh,
  body: JSON.stringify({ incarnation, rev, fresh }),
});

/** A read, with the tombstone's stamp (Date.now at the write) left out: the two stores write it at different ms. */
const comparable = (read: EntryRead) => (typeof read === "string" ? read : { ...read, fetchedAt: 0 });

describe.skipIf(env.skip)("the Postgres cache store", () => {
  const closers: Array<() => Promise<void>> = [];
  let db: pg.Pool;
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });
  beforeAll(async () => {
    db = new pg.Pool({ connectionString: env.postgres!.url, max: 2 });
    closers.push(() => db.end());
  });

  async function openPostgres(namespace: string, sweepInterval = "1h"): Promise<PostgresCacheBackend> {
    const opened = await postgresCacheModule({
      url: env.postgres!.url,
      caches: { d: { namespace } },
      sweepInterval: sweepInterval as "1h",
    }).open({ logger: silentLogger, clock: systemClock });
    closers.push(() => opened.backend.close());
    return opened.backend as PostgresCacheBackend;
  }

  it("fences document entries exactly like the in-process store: every result and read agrees (fast-check)", async () => {
    const namespace = `feq:${randomUUID().slice(0, 8)}`;
    const memory: CacheBackend = (
      await memoryCacheModule({ caches: { d: { namespace } } }).open({ logger: silentLogger, clock: systemClock })
    ).backend;
    closers.push(() => memory.close());
    const postgres = await openPostgres(namespace);
    const keyspace = (memory as unknown as { keyspace: MemoryKeyspace }).keyspace;
    const prefix = memory.namespace("d")!.entryPrefix(FP);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const tag = `r${++run}-`;
        const sides: Array<{ store: DocumentEntryStore; evict(id: string): Promise<void> }> = [
          { store: memory.namespace("d")!.entries(FP), evict: async (id) => void keyspace.delete(idKey(prefix, id)) },
          {
            store: postgres.namespace("d")!.entries(FP),
            evict: async (id) =>
              void (await db.query(`UPDATE ${TABLE} SET value = NULL WHERE key = $1`, [idKey(prefix, id)])),
          },
        ];
        for (const op of ops) {
          const docId = `${tag}${op.id}`;
          const results = [];
          for (const { store, evict } of sides) {
            switch (op.kind) {
              case "put":
                results.push(await store.put(docId, entry(op.inc, op.rev, op.fresh), 60_000));
                break;
              case "writeThrough":
                results.push(await store.writeThrough(docId, entry(op.inc, op.rev, op.fresh), 60_000));
                break;
              case "putMany":
                results.push(
                  await store.putMany([
                    { id: docId, entry: entry(op.inc, op.rev, op.fresh), ttlMs: 60_000 },
                    { id: `${docId}-b`, entry: entry(op.inc, op.rev, op.fresh), ttlMs: 60_000 },
                  ]),
                );
                break;
              case "tombstone":
                results.push(await store.tombstone(docId, op.inc, 60_000));
                break;
              case "clear":
                results.push(await store.clear(docId, op.inc, op.rev, 60_000));
                break;
              case "evict":
                await evict(docId);
                results.push("evicted");
                break;
              case "read":
                results.push(comparable(await store.read(docId, op.slide ? 60_000 : 0)));
                break;
            }
          }
          expect(results[1], JSON.stringify(op)).toEqual(results[0]);
        }
        const ids = [0, 1].map((n) => `${tag}${n}`);
        const [m, p] = await Promise.all(sides.map(({ store }) => store.readMany(ids)));
        expect(p!.map(comparable)).toEqual(m!.map(comparable));
      }),
      { numRuns: 60, seed: 1616 },
    );
  });

  it("is the L2 of documents for a Postgres-only deployment: a second runtime hits it, a write goes through", async () => {
    const namespace = `docs:${randomUUID().slice(0, 8)}`;
    const spec = productSpec({ ttl: "5m" });
    const counter = new QueryCounter();
    const runtimeFor = (onQuery?: (sql: string) => void) =>
      createRuntime({
        modules: [
          postgresModule({ url: env.postgres!.url, documents: { products: {} }, ...(onQuery ? { onQuery } : {}) }),
          postgresCacheModule({ url: env.postgres!.url, caches: { products: { namespace } } }),
        ],
        logger: silentLogger,
      });
    const a = runtimeFor();
    const b = runtimeFor(counter.onQuery);
    await a.start();
    await b.start();
    closers.push(
      () => a.stop(),
      () => b.stop(),
    );
    const created = await a.context().document.command(spec).create({ name: "lamp", price: 10 });
    expect((await a.context().document.query(spec).get(created.id)).name).toBe("lamp"); // fills the table
    await a.settled(); // the fill lands behind the read
    const before = counter.selects;
    expect((await b.context().document.query(spec).get(created.id)).name).toBe("lamp");
    expect(counter.selects).toBe(before); // served from the Postgres cache table, not the products table
    const updated = await a.context().document.command(spec).update(created.id, created.rev, { price: 12 });
    const { rows } = await db.query(`SELECT inc, rev FROM ${TABLE} WHERE key LIKE $1`, [`${namespace}:%`]);
    expect(rows.map((r) => Number(r.rev))).toContain(updated.rev);
  });

  it("keeps its table UNLOGGED, and sweeps dead rows in bounded batches, keeping live values and live floors", async () => {
    const namespace = `sweep:${randomUUID().slice(0, 8)}`;
    const backend = await openPostgres(namespace);
    const { rows } = await db.query("SELECT relpersistence FROM pg_class WHERE relname = $1", [TABLE]);
    expect(rows[0]?.relpersistence).toBe("u");
    const kv = backend.namespace("d")!.kv(60_000);
    await kv.setMany(
      Array.from({ length: 30 }, (_, i) => [`dead${i}`, i] as const),
      { ttl: 1 },
    );
    await kv.set("alive", 1);
    const entries = backend.namespace("d")!.entries(FP);
    await entries.writeThrough("floored", entry(1, 5, 0), 60_000);
    // The entry dies early (planted), its floor lives on: the row must stay and keep fencing.
    await db.query(`UPDATE ${TABLE} SET expires_at = 0 WHERE key = $1`, [idKey(`${namespace}:${FP}:d:`, "floored")]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const first = await backend.sweep(10);
    expect(first).toBe(10); // one bounded batch
    let total = first;
    for (let swept = first; swept > 0 && total < 1000; total += swept) swept = await backend.sweep(10);
    expect(total).toBe(30);
    const left = await db.query(`SELECT key FROM ${TABLE} WHERE key LIKE $1 ORDER BY key`, [`${namespace}%`]);
    expect(left.rows.map((r) => r.key)).toEqual([`${namespace}:${FP}:d:{floored}`, `${namespace}:kv:alive`]);
    expect(await entries.put("floored", entry(1, 4, 0), 60_000)).toBe("rejected");
    expect(await kv.get("alive")).toBe(1);
  });
});

/**
 * The read/write coordinator under concurrency, explored by fast-check. Postgres is PGlite (real Postgres, in
 * process) and L2 is the in-process store; fast-check's scheduler decides when each L2 reply arrives, so the runs
 * explore interleavings of fills, write-throughs, tombstones and invalidations that timing alone rarely produces.
 *
 * Checked on every run:
 *  - read-your-writes: a read that starts after a write resolved never returns an older version;
 *  - no stale fill: once everything settles, L2 holds the current version of every id, a tombstone, or nothing;
 *  - L1 never holds a version older than Postgres once everything settles.
 */
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock.js";
import { ConflictError, NotFoundError } from "../../src/kernel/errors.js";
import { silentLogger } from "../../src/kernel/logger.js";
import { createL1Store } from "../../src/l1/create-l1-store.js";
import type { L1Store } from "../../src/l1/l1-store.js";
import type { DocumentEntryStore } from "../../src/l2/document-entry.js";
import { idKey } from "../../src/l2/key-layout.js";
import { MemoryCacheBackend } from "../../src/l2/memory/memory-cache-backend.js";
import type { FrozenDocument } from "../../src/read-through/document-codec.js";
import { CachedDocumentCommand } from "../../src/read-through/document-command.js";
import { CachedDocumentQuery } from "../../src/read-through/document-query.js";
import { ReadThroughCoordinator } from "../../src/read-through/read-through-coordinator.js";
import type { Database } from "../../src/repository/document-repository.js";
import { createSqlDatabase, pgliteDriver } from "../../src/repository/postgres/index.js";
import { productSpec } from "../support/strata.js";

const products = productSpec({ ttl: "5m", l1: { ttl: "1m", capacity: 64 } });
let pglite: PGlite;
let database: Database;
let table = 0;

beforeAll(async () => {
  pglite = await PGlite.create();
  database = createSqlDatabase({ driver: pgliteDriver({ pglite }) });
});
afterAll(async () => {
  await database?.close();
  await pglite?.close();
});

/**
 * Every L2 call waits for the scheduler before it runs, so fast-check decides the order in which reads, fills,
 * write-throughs and tombstones take effect (not just the order their replies arrive).
 */
function scheduled(store: DocumentEntryStore, s: fc.Scheduler): DocumentEntryStore {
  const at = <T>(label: string, call: () => Promise<T>) => s.schedule(Promise.resolve(label), label).then(call);
  return {
    read: (id) => at(`read ${id.slice(-2)}`, () => store.read(id)),
    readMany: (ids) => at("readMany", () => store.readMany(ids)),
    put: (id, entry, ttl) => at(`put ${id.slice(-2)} r${entry.rev}`, () => store.put(id, entry, ttl)),
    writeThrough: (id, entry, ttl) =>
      at(`writeThrough ${id.slice(-2)} r${entry.rev}`, () => store.writeThrough(id, entry, ttl)),
    putMany: (items) => at("putMany", () => store.putMany(items)),
    tombstone: (id, inc, ttl) => at(`tombstone ${id.slice(-2)}`, () => store.tombstone(id, inc, ttl)),
    clear: (id, inc, rev, ttl) => at(`clear ${id.slice(-2)}`, () => store.clear(id, inc, rev, ttl)),
  };
}

type Op =
  | { kind: "get"; doc: number }
  | { kind: "getMany"; docs: number[] }
  | { kind: "update"; doc: number }
  | { kind: "delete"; doc: number }
  | { kind: "recreate"; doc: number }
  | { kind: "evict"; doc: number }
  | { kind: "reseed" };

const DOCS = 2;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("get" as const), doc: fc.nat(DOCS - 1) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("getMany" as const),
      docs: fc.array(fc.nat(DOCS - 1), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("update" as const), doc: fc.nat(DOCS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), doc: fc.nat(DOCS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("recreate" as const), doc: fc.nat(DOCS - 1) }) },
  // Expiry or eviction behind the coordinator's back, in both tiers: what makes the next read a miss and a fill.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("evict" as const), doc: fc.nat(DOCS - 1) }) },
  // TRUNCATE … RESTART IDENTITY behind the library's back (no tombstones), then every id created again through it.
  { weight: 1, arbitrary: fc.constant({ kind: "reseed" as const }) },
);

const ids = Array.from({ length: DOCS }, (_, i) => `00000000-0000-4000-8000-0000000000${String(i).padStart(2, "0")}`);

describe("read-through coordinator under scheduled concurrency", () => {
  it("keeps read-your-writes, never leaves a stale version in L2 or L1", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(opArb, { minLength: 2, maxLength: 10 }), { minLength: 1, maxLength: 5 }),
        async (s, rounds) => {
          const tableRef = { schema: "public", table: `coord_${++table}` };
          await database.migrate([tableRef]);
          const repository = database.repository("products", tableRef);
          const backend = new MemoryCacheBackend(new Map([["products", "prop"]]), systemClock, 10_000);
          const inner = backend.namespace("products")!.entries(products.fingerprint);
          const l1 = createL1Store({ policy: "lru", capacity: 64, ttl: 60_000 }) as L1Store<FrozenDocument>;
          const coordinator = new ReadThroughCoordinator({
            document: "products",
            repository,
            autocommit: database.autocommit,
            cache: products.cache,
            entries: scheduled(inner, s),
            l1,
            refresher: undefined,
            clock: systemClock,
            logger: silentLogger,
          });
          const query = new CachedDocumentQuery<typeof products>(coordinator, database.autocommit);
          const fields = products.fields;
          const command = new CachedDocumentCommand<typeof products>(
            coordinator,
            repository,
            { create: fields, patch: fields.partial() },
            database.autocommit,
          );

          // Seed: every id exists at rev 1. Writes resolve through the scheduler too, so drive them with waitFor.
          for (const id of ids) await s.waitFor(command.create({ id, name: "seed", price: 0 }));
          /** id → the version (incarnation, rev) of the newest write that has resolved, or "deleted". */
          const floor = new Map<string, { incarnation: number; rev: number } | "deleted">();
          const incarnationOf = async (id: string) =>
            (
              await pglite.query<{ incarnation: string }>(`SELECT incarnation FROM ${tableRef.table} WHERE id = $1`, [
                id,
              ])
            ).rows[0]?.incarnation;
          for (const id of ids) floor.set(id, { incarnation: Number(await incarnationOf(id)), rev: 1 });
          const violations: string[] = [];

          // Ids that were ever deleted may be read in a new life (rev 1 again); reads of those are checked by the
          // final-state check, which compares incarnations, not by this one.
          const everDeleted = new Set<string>();
          const checkRead = (
            id: string,
            before: { incarnation: number; rev: number } | "deleted" | undefined,
            doc: { readonly rev: number } | undefined,
          ) => {
            if (everDeleted.has(id) || before === undefined || before === "deleted") return;
            if (doc === undefined) violations.push(`read ${id.slice(-2)} found nothing though it was never deleted`);
            else if (doc.rev < before.rev)
              violations.push(`read ${id.slice(-2)} rev ${doc.rev} after rev ${before.rev} resolved`);
          };

          const run = async (op: Op) => {
            if (op.kind === "get") {
              const id = ids[op.doc]!;
              const before = floor.get(id);
              checkRead(id, before, await query.find(id));
            } else if (op.kind === "getMany") {
              const wanted = op.docs.map((d) => ids[d]!);
              const before = wanted.map((id) => floor.get(id));
              const docs = await query.findMany(wanted);
              for (let i = 0; i < wanted.length; i++) checkRead(wanted[i]!, before[i], docs[i]);
            } else if (op.kind === "update") {
              const id = ids[op.doc]!;
              const current = await query.find(id, { skipCache: true });
              if (!current) return;
              try {
                const doc = await command.update(id, current.rev, { price: current.price + 1 });
                const inc = Number(await incarnationOf(id));
                const prev = floor.get(id);
                if (prev === undefined || prev === "deleted" || prev.incarnation < inc || prev.rev < doc.rev)
                  floor.set(id, { incarnation: inc, rev: doc.rev });
              } catch (error) {
                if (!(error instanceof ConflictError) && !(error instanceof NotFoundError)) throw error;
              }
            } else if (op.kind === "delete") {
              const id = ids[op.doc]!;
              everDeleted.add(id);
              try {
                await command.delete(id);
                floor.set(id, "deleted");
              } catch (error) {
                if (!(error instanceof NotFoundError)) throw error;
              }
            } else if (op.kind === "reseed") {
              for (const id of ids) everDeleted.add(id); // before: a read racing the truncate may find nothing
              await pglite.query(`TRUNCATE ${tableRef.table} RESTART IDENTITY`);
              for (const id of ids) {
                try {
                  const doc = await command.create({ id, name: "reseeded", price: 7 });
                  floor.set(id, { incarnation: Number(await incarnationOf(id)), rev: doc.rev });
                } catch (error) {
                  if (!(error instanceof ConflictError)) throw error;
                }
              }
            } else if (op.kind === "evict") {
              const id = ids[op.doc]!;
              backend.keyspace.delete(idKey(backend.namespace("products")!.entryPrefix(products.fingerprint), id));
              l1.invalidate(id);
            } else {
              const id = ids[op.doc]!;
              try {
                const doc = await command.create({ id, name: "again", price: 100 });
                floor.set(id, { incarnation: Number(await incarnationOf(id)), rev: doc.rev });
              } catch (error) {
                if (!(error instanceof ConflictError)) throw error;
              }
            }
          };

          // After every round (all its operations settled), every tier must agree with Postgres.
          const checkTiers = async () => {
            for (const id of ids) {
              const truth = (
                await pglite.query<{ rev: string; incarnation: string }>(
                  `SELECT rev, incarnation FROM ${tableRef.table} WHERE id = $1`,
                  [id],
                )
              ).rows[0];
              const entry = await inner.read(id);
              if (typeof entry === "object") {
                expect(truth, `L2 holds ${id.slice(-2)} r${entry.rev} but it is deleted\n${String(s)}`).toBeDefined();
                expect({ inc: entry.incarnation, rev: entry.rev }, String(s)).toEqual({
                  inc: Number(truth!.incarnation),
                  rev: Number(truth!.rev),
                });
              }
              const cached = l1.get(id);
              if (cached !== undefined) {
                expect(truth, `L1 holds deleted ${id.slice(-2)}\n${String(s)}`).toBeDefined();
                expect(cached.rev, String(s)).toBe(Number(truth!.rev));
              }
            }
          };
          for (const round of rounds) {
            await s.waitFor(Promise.all(round.map(run)));
            await checkTiers();
          }
          await s.waitAll();
          expect(violations, String(s)).toEqual([]);
          await pglite.query(`DROP TABLE ${tableRef.table}`);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

/**
 * The SQL repository and database over both engines: a real Postgres (fresh database per file, from test/support)
 * and PGlite (in process). Every engine-neutral case runs on both via `describe.each`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AbortError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  RuntimeStateError,
  StrataError,
  ValidationError,
} from "../../src/kernel/errors.js";
import type { Database, DocumentRepository, TableRef } from "../../src/repository/document-repository.js";
import {
  createSqlDatabase,
  type PGliteLike,
  pgDriver,
  pgliteDriver,
  type SqlDriver,
  type SqlLogger,
} from "../../src/repository/postgres/index.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true });

/** What a test needs from an engine besides the code under test: a driver, raw SQL for setup, a way to block a table. */
interface Engine {
  readonly name: string;
  readonly skip: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A driver over the shared server/instance that the test's database owns (closing it leaves the engine usable). */
  driver(): SqlDriver;
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Makes reads of `table` wait until the returned release() is called. */
  block(table: TableRef): Promise<() => Promise<void>>;
}

function pgEngine(): Engine {
  let admin: pg.Pool | undefined;
  return {
    name: "postgres (pg)",
    skip: env.skip,
    async setup() {
      admin = new pg.Pool({ connectionString: env.postgres?.url, max: 4 });
    },
    async teardown() {
      await admin?.end();
    },
    driver: () => pgDriver({ url: env.postgres?.url ?? "" }),
    async raw(sql, params) {
      return (await admin!.query(sql, params)).rows;
    },
    async block(table) {
      const client = await admin!.connect();
      await client.query("BEGIN");
      await client.query(`LOCK TABLE "${table.schema}"."${table.table}" IN ACCESS EXCLUSIVE MODE`);
      return async () => {
        await client.query("COMMIT");
        client.release();
      };
    },
  };
}

function pgliteEngine(): Engine {
  let instance: PGlite | undefined;
  return {
    name: "pglite",
    skip: false,
    async setup() {
      instance = await PGlite.create();
    },
    async teardown() {
      await instance?.close();
    },
    driver: () => pgliteDriver({ pglite: instance }),
    async raw(sql, params) {
      return (await instance!.query<Record<string, unknown>>(sql, params)).rows;
    },
    async block() {
      // PGlite has one connection: an open transaction makes every other query wait.
      let release = () => {};
      let started = () => {};
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const done = instance!.transaction(async () => {
        started();
        await gate;
      });
      await running;
      return async () => {
        release();
        await done;
      };
    },
  };
}

// A compile-time check that a real PGlite fits the structural type the driver accepts.
const _pgliteFits: (db: PGlite) => PGliteLike = (db) => db;
void _pgliteFits;

const uuid = () => randomUUID();
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));
const freshTable = (): TableRef => ({ schema: "strata_test", table: `docs_${randomBytes(4).toString("hex")}` });

interface Harness {
  db: Database;
  repo: DocumentRepository;
  table: TableRef;
  queries: string[];
  logged: { message: string; context?: Readonly<Record<string, unknown>> }[];
}

describe.each([pgEngine(), pgliteEngine()])("$name", (engine) => {
  const harnesses: Harness[] = [];
  beforeAll(async () => {
    if (!engine.skip) await engine.setup();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.db.close();
    if (!engine.skip) await engine.teardown();
  });

  /** A database over a fresh, migrated table; `queries` records what it sends from now on. */
  async function harness(): Promise<Harness> {
    const queries: string[] = [];
    const logged: Harness["logged"] = [];
    const logger: SqlLogger = { error: (message, context) => logged.push({ message, context }) };
    const db = createSqlDatabase({ driver: engine.driver(), logger, onQuery: (sql) => queries.push(sql) });
    const table = freshTable();
    await db.migrate([table]);
    queries.length = 0;
    const h = { db, repo: db.repository("docs", table), table, queries, logged };
    harnesses.push(h);
    return h;
  }

  describe.skipIf(engine.skip)("repository", () => {
    it("creates at rev 1, reads back, and generates ids", async () => {
      const { db, repo } = await harness();
      const id = uuid();
      const created = await repo.insert(db.autocommit, id, { name: "Widget", price: 10, tags: ["a"] });
      expect(created).toMatchObject({ id, rev: 1, data: { name: "Widget", price: 10, tags: ["a"] } });
      expect(created.createdAt).toBeInstanceOf(Date);
      expect(created.createdAt.getTime()).toBe(created.updatedAt.getTime());
      expect(typeof created.incarnation).toBe("number");
      expect(await repo.get(db.autocommit, id)).toEqual(created);

      const generated = await repo.insert(db.autocommit, undefined, { name: "Gadget" });
      expect(generated.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(generated.id).not.toBe(id);
      expect(await repo.get(db.autocommit, uuid())).toBeUndefined();
    });

    it("bumps rev by exactly 1 per update, merges top-level keys, and lets the database stamp updated_at", async () => {
      const { db, repo } = await harness();
      const created = await repo.insert(db.autocommit, undefined, { name: "A", price: 1, nested: { x: 1, y: 2 } });
      await tick(); // StoredRow dates have millisecond resolution; the columns have microseconds.
      const first = await repo.update(db.autocommit, created.id, 1, { price: 2, nested: { x: 9 } });
      expect(first.rev).toBe(2);
      expect(first.data).toEqual({ name: "A", price: 2, nested: { x: 9 } });
      expect(first.createdAt).toEqual(created.createdAt);
      expect(first.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
      await tick();
      const second = await repo.update(db.autocommit, created.id, 2, {});
      expect(second.rev).toBe(3);
      expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());

      // Within one transaction now() would not move; clock_timestamp() does, so updated_at keeps growing with rev.
      const [a, b] = await db.transaction(async (tx) => {
        const a = await repo.update(tx, created.id, 3, { price: 4 });
        await tick();
        const b = await repo.update(tx, created.id, 4, { price: 5 });
        return [a, b];
      });
      expect([a.rev, b.rev]).toEqual([4, 5]);
      expect(b.updatedAt.getTime()).toBeGreaterThan(a.updatedAt.getTime());
    });

    it("getMany dedupes, skips missing ids, and sends exactly one query", async () => {
      const { db, repo, queries } = await harness();
      const a = await repo.insert(db.autocommit, undefined, { n: 1 });
      const b = await repo.insert(db.autocommit, undefined, { n: 2 });
      queries.length = 0;
      const rows = await repo.getMany(db.autocommit, [a.id, b.id, a.id, uuid(), b.id.toUpperCase(), uuid()]);
      expect(queries).toHaveLength(1);
      expect(queries[0]).toContain("= ANY($1::uuid[])");
      expect(rows.map((row) => row.id).sort()).toEqual([a.id, b.id].sort());
      expect(await repo.getMany(db.autocommit, [])).toEqual([]);
    });

    it("reads timestamps to the millisecond the drivers' own date parsing gives: pre-1970, any fraction; ±infinity as an Invalid Date", async () => {
      const { db, repo, table } = await harness();
      const rows = await Promise.all(Array.from({ length: 8 }, (_, n) => repo.insert(db.autocommit, undefined, { n })));
      const ids = rows.map((row) => row.id);
      const name = `"${table.schema}"."${table.table}"`;
      // Microseconds since the epoch, 1900–2100, biased to whole milliseconds and to fractions near one.
      const micros = fc.oneof(
        fc.integer({ min: -2_208_988_800_000_000, max: 4_102_444_800_000_000 }),
        fc.integer({ min: -2_208_988_800_000, max: 4_102_444_800_000 }).map((ms) => ms * 1000),
        fc.integer({ min: -2_208_988_800_000, max: 4_102_444_800_000 }).map((ms) => ms * 1000 + 999),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(micros, micros), { minLength: 8, maxLength: 8 }), async (times) => {
          for (const [i, [created, updated]] of times.entries()) {
            await engine.raw(
              `UPDATE ${name} SET created_at = 'epoch'::timestamptz + $2::int8 * interval '1 microsecond', updated_at = 'epoch'::timestamptz + $3::int8 * interval '1 microsecond' WHERE id = $1`,
              [ids[i], created, updated],
            );
          }
          const parsed = await engine.raw(`SELECT id, created_at, updated_at FROM ${name}`); // the driver's Dates
          const byId = new Map(parsed.map((row) => [row.id, row]));
          for (const row of await repo.getMany(db.autocommit, ids)) {
            const [created, updated] = times[ids.indexOf(row.id)]!;
            expect(row.createdAt.getTime()).toBe(Math.floor(created / 1000));
            expect(row.updatedAt.getTime()).toBe(Math.floor(updated / 1000));
            expect(row.createdAt).toEqual(byId.get(row.id)?.created_at);
            expect(row.updatedAt).toEqual(byId.get(row.id)?.updated_at);
          }
        }),
        { numRuns: 15 },
      );
      await engine.raw(`UPDATE ${name} SET created_at = 'infinity', updated_at = '-infinity' WHERE id = $1`, [ids[0]]);
      const [infinite] = await repo.getMany(db.autocommit, [ids[0]!]);
      expect(Number.isNaN(infinite!.createdAt.getTime())).toBe(true);
      expect(Number.isNaN(infinite!.updatedAt.getTime())).toBe(true);
    });

    it("lets exactly one of 20 concurrent updates at the same rev win", async () => {
      const { db, repo } = await harness();
      const { id } = await repo.insert(db.autocommit, undefined, { n: 0 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => repo.update(db.autocommit, id, 1, { n: i + 1 })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(19);
      for (const error of lost) {
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).currentRev).toBe(2);
      }
      expect((await repo.get(db.autocommit, id))?.rev).toBe(2);
    });

    it("refuses stale revs and missing ids with typed errors", async () => {
      const { db, repo } = await harness();
      const { id } = await repo.insert(db.autocommit, undefined, { n: 0 });
      await repo.update(db.autocommit, id, 1, { n: 1 });

      const stale = await repo.update(db.autocommit, id, 1, { n: 2 }).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale).toMatchObject({ code: "CONFLICT", id, currentRev: 2 });
      expect((stale as Error).message).toMatch(/rev 1.*current rev is 2/);
      await expect(repo.delete(db.autocommit, id, 1)).rejects.toMatchObject({ code: "CONFLICT", currentRev: 2 });
      expect((await repo.get(db.autocommit, id))?.data).toEqual({ n: 1 });

      const missing = uuid();
      await expect(repo.update(db.autocommit, missing, 1, {})).rejects.toBeInstanceOf(NotFoundError);
      await expect(repo.delete(db.autocommit, missing, 1)).rejects.toBeInstanceOf(NotFoundError);
      await expect(repo.delete(db.autocommit, missing, undefined)).rejects.toMatchObject({ missing: [missing] });
    });

    it("deletes and returns the row; a re-created id starts over at rev 1 with a larger incarnation", async () => {
      const { db, repo } = await harness();
      const id = uuid();
      const first = await repo.insert(db.autocommit, id, { life: 1 });
      await repo.update(db.autocommit, id, 1, { life: 1.5 });
      const deleted = await repo.delete(db.autocommit, id, 2);
      expect(deleted).toMatchObject({ id, rev: 2, data: { life: 1.5 } });
      expect(await repo.get(db.autocommit, id)).toBeUndefined();
      const second = await repo.insert(db.autocommit, id, { life: 2 });
      expect(second.rev).toBe(1);
      expect(second.incarnation).toBeGreaterThan(first.incarnation);
      expect(await repo.delete(db.autocommit, id, undefined)).toMatchObject({ id, rev: 1 });
    });

    it("refuses a taken id with ConflictError", async () => {
      const { db, repo } = await harness();
      const id = uuid();
      await repo.insert(db.autocommit, id, { n: 1 });
      const error = await repo.insert(db.autocommit, id.toUpperCase(), { n: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ id, currentRev: undefined });
      expect((await repo.get(db.autocommit, id))?.data).toEqual({ n: 1 });
    });

    it("refuses malformed ids and revs before sending anything", async () => {
      const { db, repo, queries, table } = await harness();
      const bad = [
        "'; DROP TABLE x; --",
        "1 OR 1=1",
        "",
        "not-a-uuid",
        `${uuid()} `,
        `{${uuid()}}`,
        uuid().replaceAll("-", ""),
        `${uuid()}'--`,
        42 as unknown as string,
      ];
      for (const id of bad) {
        for (const call of [
          () => repo.get(db.autocommit, id),
          () => repo.getMany(db.autocommit, [uuid(), id]),
          () => repo.insert(db.autocommit, id, {}),
          () => repo.update(db.autocommit, id, 1, {}),
          () => repo.delete(db.autocommit, id, undefined),
        ]) {
          const error = await call().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).issues[0]?.code).toBe("invalid_id");
        }
      }
      for (const rev of [0, -1, 1.5, Number.NaN, "1" as unknown as number]) {
        await expect(repo.update(db.autocommit, uuid(), rev, {})).rejects.toMatchObject({
          code: "VALIDATION",
          issues: [{ code: "invalid_rev" }],
        });
      }
      expect(queries).toEqual([]);
      expect((await engine.raw(`SELECT count(*)::int AS n FROM "${table.schema}"."${table.table}"`))[0]).toEqual({
        n: 0,
      });

      const upper = uuid().toUpperCase();
      const row = await repo.insert(db.autocommit, upper, { ok: true });
      expect(row.id).toBe(upper.toLowerCase());
      expect(await repo.get(db.autocommit, upper)).toEqual(row);
    });

    it("quotes identifiers and refuses ones Postgres would mangle", async () => {
      const { db } = await harness();
      const table = {
        schema: 'strata "odd" schema',
        table: `we"ird; DROP TABLE x; --${randomBytes(2).toString("hex")}`,
      };
      await db.migrate([table]);
      const repo = db.repository("odd", table);
      const row = await repo.insert(db.autocommit, undefined, { ok: 1 });
      expect(await repo.get(db.autocommit, row.id)).toEqual(row);

      expect(() => db.repository("x", { schema: "public", table: "a".repeat(64) })).toThrow(ConfigurationError);
      expect(() => db.repository("x", { schema: "public", table: "é".repeat(32) })).toThrow(/at most 63 bytes/);
      expect(() => db.repository("x", { schema: "pub\0lic", table: "t" })).toThrow(ConfigurationError);
      expect(() => db.repository("x", { schema: "public", table: "" })).toThrow(ConfigurationError);
      await expect(db.migrate([{ schema: "public", table: "a".repeat(64) }])).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    });
  });

  describe.skipIf(engine.skip)("transactions", () => {
    it("runs afterCommit hooks in order, after COMMIT, and returns fn's value", async () => {
      const { db, repo } = await harness();
      const events: string[] = [];
      const id = uuid();
      const value = await db.transaction(async (tx) => {
        expect(tx.inTransaction).toBe(true);
        await repo.insert(tx, id, { n: 1 });
        tx.afterCommit(async () => {
          // Visible outside the transaction: it has committed.
          const seen = await repo.get(db.autocommit, id);
          events.push(`hook 1 sees rev ${seen?.rev}`);
        });
        tx.afterCommit(() => {
          events.push("hook 2");
        });
        events.push("fn done");
        return "result";
      });
      expect(value).toBe("result");
      expect(events).toEqual(["fn done", "hook 1 sees rev 1", "hook 2"]);
    });

    it("rolls back when fn throws: the row is absent and hooks never run", async () => {
      const { db, repo } = await harness();
      const id = uuid();
      let ran = false;
      const boom = new Error("boom");
      await expect(
        db.transaction(async (tx) => {
          await repo.insert(tx, id, { n: 1 });
          tx.afterCommit(() => {
            ran = true;
          });
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(ran).toBe(false);
      expect(await repo.get(db.autocommit, id)).toBeUndefined();
    });

    it("drops hooks and rethrows when COMMIT itself fails", async () => {
      const { db, repo, table } = await harness();
      const name = `"${table.schema}"."${table.table}"`;
      await engine.raw(
        `CREATE FUNCTION "${table.schema}".fail_${table.table}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.data ? 'failAtCommit' THEN RAISE EXCEPTION 'deferred check failed'; END IF; RETURN NEW; END $$`,
      );
      await engine.raw(
        `CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON ${name} DEFERRABLE INITIALLY DEFERRED
         FOR EACH ROW EXECUTE FUNCTION "${table.schema}".fail_${table.table}()`,
      );
      const id = uuid();
      let ran = false;
      let fnFinished = false;
      await expect(
        db.transaction(async (tx) => {
          await repo.insert(tx, id, { failAtCommit: true });
          tx.afterCommit(() => {
            ran = true;
          });
          fnFinished = true;
        }),
      ).rejects.toThrow(/deferred check failed/);
      expect(fnFinished).toBe(true);
      expect(ran).toBe(false);
      expect(await repo.get(db.autocommit, id)).toBeUndefined();
    });

    it("logs a throwing hook, still runs later hooks, and resolves the transaction", async () => {
      const { db, repo, logged } = await harness();
      const events: string[] = [];
      const id = uuid();
      const value = await db.transaction(async (tx) => {
        await repo.insert(tx, id, {});
        tx.afterCommit(() => {
          throw new Error("hook failed");
        });
        tx.afterCommit(async () => {
          await Promise.reject(new Error("async hook failed"));
        });
        tx.afterCommit(() => {
          events.push("third");
        });
        return 7;
      });
      expect(value).toBe(7);
      expect(events).toEqual(["third"]);
      expect(logged).toHaveLength(2);
      expect(logged.map((entry) => (entry.context?.error as Error | undefined)?.message)).toEqual([
        "hook failed",
        "async hook failed",
      ]);
      expect(await repo.get(db.autocommit, id)).toBeDefined();
    });

    it("turns a nested transaction into a savepoint: its rollback is its own, its hooks wait for the outer commit", async () => {
      const { db, repo } = await harness();
      const [outerId, keptId, droppedId] = [uuid(), uuid(), uuid()];
      const events: string[] = [];
      await db.transaction(async (tx) => {
        await repo.insert(tx, outerId, {});
        tx.afterCommit(() => {
          events.push("outer");
        });
        await db.transaction(async (inner) => {
          await repo.insert(inner, keptId, {});
          inner.afterCommit(() => {
            events.push("kept");
          });
        });
        await expect(
          db.transaction(async (inner) => {
            await repo.insert(inner, droppedId, {});
            inner.afterCommit(() => {
              events.push("dropped");
            });
            throw new Error("inner fails");
          }),
        ).rejects.toThrow("inner fails");
        // A failed statement inside the savepoint must not poison the outer transaction either.
        await expect(db.transaction((inner) => repo.insert(inner, outerId, {}))).rejects.toBeInstanceOf(ConflictError);
        expect(events).toEqual([]);
      });
      expect(events).toEqual(["outer", "kept"]);
      expect(await repo.get(db.autocommit, outerId)).toBeDefined();
      expect(await repo.get(db.autocommit, keptId)).toBeDefined();
      expect(await repo.get(db.autocommit, droppedId)).toBeUndefined();
    });

    it("runs an autocommit hook at once and lets the caller await it", async () => {
      const { db } = await harness();
      expect(db.autocommit.inTransaction).toBe(false);
      const events: string[] = [];
      const pending = db.autocommit.afterCommit(async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        events.push("hook");
      }) as unknown as Promise<void>;
      expect(pending).toBeInstanceOf(Promise);
      await pending;
      expect(events).toEqual(["hook"]);
    });

    it("refuses a scope from another database, and a scope whose transaction has ended", async () => {
      const a = await harness();
      const b = await harness();
      await expect(a.repo.get(b.db.autocommit, uuid())).rejects.toBeInstanceOf(ConfigurationError);
      await expect(a.repo.get({ inTransaction: false, afterCommit: () => {} }, uuid())).rejects.toThrow(
        /does not belong to this database/,
      );
      const leaked = await a.db.transaction(async (tx) => tx);
      await expect(a.repo.get(leaked, uuid())).rejects.toThrow(/already ended/);
      expect(() => leaked.afterCommit(() => {})).toThrow(/already ended/);
      expect(a.queries).toEqual([]);
    });
  });

  describe.skipIf(engine.skip)("abort", () => {
    it("throws AbortError before sending anything when the signal has already fired", async () => {
      const { db, repo, queries } = await harness();
      const signal = AbortSignal.abort(new Error("caller gave up"));
      await expect(repo.get(db.autocommit, uuid(), { signal })).rejects.toBeInstanceOf(AbortError);
      await expect(repo.getMany(db.autocommit, [uuid()], { signal })).rejects.toMatchObject({ code: "ABORTED" });
      expect(queries).toEqual([]);
    });

    it("rejects promptly when aborted mid-query and leaves the connection usable", async () => {
      const { db, repo, table } = await harness();
      const row = await repo.insert(db.autocommit, undefined, { n: 1 });
      const release = await engine.block(table);
      try {
        const controller = new AbortController();
        const started = Date.now();
        const reading = repo.get(db.autocommit, row.id, { signal: controller.signal });
        const many = repo.getMany(db.autocommit, [row.id], { signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        await expect(reading).rejects.toBeInstanceOf(AbortError);
        await expect(many).rejects.toBeInstanceOf(AbortError);
        expect(Date.now() - started).toBeLessThan(1_000);
      } finally {
        await release();
      }
      expect(await repo.get(db.autocommit, row.id)).toEqual(row);
    });
  });

  describe.skipIf(engine.skip)("migrate", () => {
    it("is idempotent, safe when several databases migrate at once, and keeps data", async () => {
      const table = freshTable();
      const dbs = Array.from({ length: 4 }, () => createSqlDatabase({ driver: engine.driver() }));
      try {
        await Promise.all(dbs.map((db) => db.migrate([table])));
        const [first, second] = dbs as [Database, Database];
        const repo = first.repository("docs", table);
        const row = await repo.insert(first.autocommit, undefined, { kept: true });
        await Promise.all(dbs.map((db) => db.migrate([table])));
        await second.migrate([table]);
        expect(await second.repository("docs", table).get(second.autocommit, row.id)).toEqual(row);
      } finally {
        for (const db of dbs) await db.close();
      }
    });

    it("refuses an existing table that lacks our columns instead of altering it", async () => {
      const { db } = await harness();
      const table = freshTable();
      await engine.raw(`CREATE TABLE "${table.schema}"."${table.table}" (id uuid PRIMARY KEY, data jsonb)`);
      await expect(db.migrate([table])).rejects.toThrow(/lacks column\(s\) rev, incarnation, created_at, updated_at/);
    });
  });

  describe.skipIf(engine.skip)("lifecycle", () => {
    it("pings an answering server and refuses work after close()", async () => {
      const db = createSqlDatabase({ driver: engine.driver() });
      await db.ping();
      await db.close();
      await db.close();
      await expect(db.ping()).rejects.toBeInstanceOf(RuntimeStateError);
      await expect(db.transaction(async () => 1)).rejects.toBeInstanceOf(RuntimeStateError);
    });
  });
});

describe.skipIf(env.skip)("postgres (pg) only", () => {
  it("leaves a user-supplied pool open after close()", async () => {
    const pool = new pg.Pool({ connectionString: env.postgres?.url, max: 2 });
    try {
      const db = createSqlDatabase({ driver: pgDriver({ pool }) });
      await db.ping();
      await db.close();
      expect(pool.ended).toBe(false);
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it("always gives a transaction's client back to the pool: after commit, rollback and a failed statement", async () => {
    const pool = new pg.Pool({ connectionString: env.postgres?.url, max: 1 });
    const db = createSqlDatabase({ driver: pgDriver({ pool }) });
    try {
      const table = freshTable();
      await db.migrate([table]);
      const repo = db.repository("docs", table);
      const id = uuid();
      await db.transaction((tx) => repo.insert(tx, id, {}));
      await expect(db.transaction((tx) => repo.insert(tx, id, {}))).rejects.toBeInstanceOf(ConflictError);
      await expect(
        db.transaction(async () => {
          throw new Error("fn failed");
        }),
      ).rejects.toThrow("fn failed");
      expect(pool.totalCount - pool.idleCount).toBe(0);
      // With max 1, a leaked client would make this wait forever.
      expect((await repo.get(db.autocommit, id))?.rev).toBe(1);
    } finally {
      await db.close();
      await pool.end();
    }
  });

  it.each([
    [true, ["strata_1"]],
    [false, []],
  ])(
    "preparedStatements %s: a parameterised read is (or is not) a named statement on its connection",
    async (prepared, names) => {
      // One connection, so the catalogue query below runs on the session that prepared (pg_prepared_statements is per session).
      const driver = pgDriver({ url: env.postgres?.url ?? "", max: 1, preparedStatements: prepared });
      try {
        for (let i = 0; i < 3; i++) await driver.query("SELECT $1::int + 1 AS n", [i]);
        expect((await driver.query<{ n: number }>("SELECT $1::int + 1 AS n", [41])).rows[0]?.n).toBe(42);
        const found = await driver.query<{ name: string }>("SELECT name FROM pg_prepared_statements ORDER BY name");
        expect(found.rows.map((row) => row.name)).toEqual(names);
      } finally {
        await driver.close();
      }
    },
  );

  it("ends a pool it created", async () => {
    const driver = pgDriver({ url: env.postgres?.url ?? "" });
    await driver.query("SELECT 1");
    await driver.close();
    await expect(driver.query("SELECT 1")).rejects.toThrow();
  });

  it("returns an aborted read's client to the pool once the query finishes", async () => {
    const pool = new pg.Pool({ connectionString: env.postgres?.url, max: 2 });
    const blocker = new pg.Pool({ connectionString: env.postgres?.url, max: 1 });
    const db = createSqlDatabase({ driver: pgDriver({ pool }) });
    try {
      const table = freshTable();
      await db.migrate([table]);
      const repo = db.repository("docs", table);
      const lock = await blocker.connect();
      await lock.query("BEGIN");
      await lock.query(`LOCK TABLE "${table.schema}"."${table.table}" IN ACCESS EXCLUSIVE MODE`);
      await expect(repo.get(db.autocommit, uuid(), { signal: AbortSignal.timeout(50) })).rejects.toBeInstanceOf(
        AbortError,
      );
      expect(pool.totalCount - pool.idleCount).toBe(1); // still running server-side
      await lock.query("COMMIT");
      lock.release();
      await expect.poll(() => pool.totalCount - pool.idleCount).toBe(0);
    } finally {
      await db.close();
      await pool.end();
      await blocker.end();
    }
  });

  it("fails ping fast on a refused port, naming host:port without the password", async () => {
    const db = createSqlDatabase({ driver: pgDriver({ url: "postgres://app:s3cret-pw@127.0.0.1:1/nowhere" }) });
    try {
      const started = Date.now();
      const error = await db.ping().catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(StrataError);
      expect(error).toMatchObject({ code: "UNAVAILABLE" });
      expect((error as Error).message).toMatch(/^Postgres is unreachable at 127\.0\.0\.1:1: .*ECONNREFUSED/);
      expect((error as Error).message).not.toContain("s3cret");
      expect((error as Error).cause).toBeDefined();
    } finally {
      await db.close();
    }
  });

  it("bounds ping when the server accepts but never answers", async () => {
    const { createServer } = await import("node:net");
    const sockets = new Set<import("node:net").Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as import("node:net").AddressInfo).port;
    const db = createSqlDatabase({
      driver: pgDriver({ url: `postgres://postgres@127.0.0.1:${port}/x`, connectTimeoutMs: 10_000 }),
      pingTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      await expect(db.ping()).rejects.toThrow(`Postgres is unreachable at 127.0.0.1:${port}: no answer within 300 ms`);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await db.close();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("pglite only", () => {
  it("leaves a user-supplied PGlite open after close(), and closes one it created", async () => {
    const supplied = await PGlite.create();
    try {
      const db = createSqlDatabase({ driver: pgliteDriver({ pglite: supplied }) });
      await db.ping();
      await db.close();
      expect(supplied.closed).toBe(false);
      expect((await supplied.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await supplied.close();
    }

    const driver = pgliteDriver();
    const db = createSqlDatabase({ driver });
    const table = freshTable();
    await db.migrate([table]);
    const repo = db.repository("docs", table);
    const row = await repo.insert(db.autocommit, undefined, { n: 1 });
    expect(await repo.get(db.autocommit, row.id)).toEqual(row);
    await db.close();
    await expect(driver.query("SELECT 1")).rejects.toThrow(/closed/);
  });

  it("ping bounds the answer, not PGlite's start: a created PGlite passes a 1 ms ping", async () => {
    // Creating PGlite (load, compile, initdb) takes hundreds of ms, and longer on a loaded machine; SELECT 1 then
    // answers in microtasks, before any timer can fire. Timing the start too failed a CI run at the 5 s default.
    const db = createSqlDatabase({ driver: pgliteDriver(), pingTimeoutMs: 1 });
    try {
      await db.ping();
      await db.ping();
    } finally {
      await db.close();
    }
  });
});

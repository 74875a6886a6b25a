/**
 * Values through every tier, on real Postgres and Redis: Date and bigint fields (top-level, nested, in arrays,
 * records and tuples, optional and nullable) come back as Date and bigint from Postgres, the Redis L2, the
 * in-process L2 and L1; values Postgres jsonb cannot hold are refused before anything is sent; and patches follow
 * the documented rules (unset with undefined, unknown keys and empty patches refused, nothing written).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Runtime } from "../../src/index.js";
import { defineDocument, ValidationError } from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });

const fields = z.object({
  name: z.string(),
  at: z.date(),
  maybe: z.date().optional(),
  gone: z.date().nullable(),
  big: z.bigint(),
  nested: z.object({
    when: z.date(),
    list: z.array(z.object({ t: z.date(), n: z.bigint().optional() })),
  }),
  dates: z.array(z.date()),
  byKey: z.record(z.string(), z.date()),
  pair: z.tuple([z.string(), z.date()]),
  note: z.string().optional(),
  count: z.number().default(7),
  anything: z.any().optional(),
});

/** Plain JSON fields only, so the patch rules are tested apart from the Date/bigint codec. */
const notes = defineDocument({
  name: "notes",
  fields: z.object({
    name: z.string(),
    note: z.string().optional(),
    count: z.number().default(7),
    gone: z.string().nullable(),
    anything: z.any().optional(),
  }),
  cache: { ttl: "5m" },
});

const events = defineDocument({ name: "events", fields, cache: { ttl: "5m" } });
const eventsL1 = defineDocument({ name: "events", fields, cache: { ttl: "5m", l1: { ttl: "1m" } } });

const input = {
  name: "launch",
  at: new Date("2026-01-02T03:04:05.678Z"),
  maybe: new Date("2027-01-01T00:00:00.000Z"),
  gone: null,
  big: 2n ** 70n + 1n,
  nested: {
    when: new Date("2025-05-05T05:05:05.005Z"),
    list: [{ t: new Date("2024-04-04T04:04:04.004Z"), n: -(2n ** 64n) }, { t: new Date(0) }],
  },
  dates: [new Date(1), new Date(2)],
  byKey: { a: new Date(3) },
  pair: ["p", new Date(4)] as [string, Date],
};

function expectTyped(value: object, what: string): void {
  const doc = value as Record<string, unknown>;
  expect(doc.at, what).toBeInstanceOf(Date);
  expect((doc.at as Date).toISOString(), what).toBe("2026-01-02T03:04:05.678Z");
  expect(doc.maybe, what).toEqual(new Date("2027-01-01T00:00:00.000Z"));
  expect(doc.gone, what).toBeNull();
  expect(doc.big, what).toBe(2n ** 70n + 1n);
  const nested = doc.nested as { when: unknown; list: Array<{ t: unknown; n?: unknown }> };
  expect(nested.when, what).toEqual(new Date("2025-05-05T05:05:05.005Z"));
  expect(nested.list[0]?.t, what).toEqual(new Date("2024-04-04T04:04:04.004Z"));
  expect(nested.list[0]?.n, what).toBe(-(2n ** 64n));
  expect(nested.list[1]?.t, what).toEqual(new Date(0));
  expect(nested.list[1] && "n" in nested.list[1], what).toBe(false);
  expect(doc.dates, what).toEqual([new Date(1), new Date(2)]);
  expect(doc.byKey, what).toEqual({ a: new Date(3) });
  expect(doc.pair, what).toEqual(["p", new Date(4)]);
  expect(Object.isFrozen(doc.at), what).toBe(true);
}

describe.skipIf(env.skip)("document values", () => {
  let admin: pg.Pool;
  let redis: Redis;
  const systems: System[] = [];
  const start = async (wiring: { redis: string | "memory"; namespace?: string }) => {
    const system = await buildSystem({
      postgres: env.postgres!.url,
      documents: ["events", "notes"],
      redis: wiring.redis === "memory" ? "memory" : { url: wiring.redis },
      ...(wiring.namespace === undefined ? {} : { namespace: wiring.namespace }),
    });
    systems.push(system);
    return system.runtime;
  };
  const rows = async () => Number((await admin.query("SELECT count(*) AS n FROM events")).rows[0].n);
  const redisKeys = async (namespace: string) => (await redis.keys(`${namespace}*`)).length;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: env.postgres!.url, max: 1 });
    admin.on("error", () => {});
    redis = new Redis(env.redisUrl!);
  });
  afterAll(async () => {
    for (const system of systems) await system.stop();
    await admin?.end();
    await redis?.quit();
  });

  for (const l2 of ["redis", "memory"] as const) {
    it(`Date and bigint fields keep their types from Postgres, the ${l2} L2 and L1`, async () => {
      const namespace = `t:${randomUUID().slice(0, 8)}`;
      const url = l2 === "redis" ? env.redisUrl! : "memory";
      const writer = await start({ redis: url, namespace });
      const ctx = writer.context();
      const created = await ctx.document.command(events).create(input);
      expectTyped(created, "create");
      expectTyped(await ctx.document.query(events).get(created.id, { skipCache: true }), "postgres");
      expectTyped(await ctx.document.query(events).get(created.id), "fill from postgres");
      // Served by L2 alone: the row is gone from Postgres, the entry is still cached.
      await admin.query("DELETE FROM events WHERE id = $1", [created.id]);
      const fromL2 = await ctx.document.query(events).get(created.id);
      expectTyped(fromL2, "L2 hit");
      expect((await ctx.document.query(events).getMany([created.id]))[0]).toMatchObject({ big: input.big });
      if (l2 === "redis") {
        // Another replica (empty L1, with L1 on) reads the Redis entry and keeps it in L1.
        const reader = await start({ redis: url, namespace });
        const first = await reader.context().document.query(eventsL1).get(created.id);
        expectTyped(first, "L2 hit on another replica");
        const again = await reader.context().document.query(eventsL1).get(created.id);
        expect(again).toBe(first); // the L1 object itself
        expectTyped(again, "L1 hit");
      }
    });
  }

  it("update returns and caches typed values; a Date can be replaced and an optional one unset", async () => {
    const runtime = await start({ redis: env.redisUrl! });
    const ctx = runtime.context();
    const created = await ctx.document.command(events).create(input);
    const later = new Date("2030-03-03T03:03:03.003Z");
    const updated = await ctx.document.command(events).update(created.id, created.rev, { at: later, maybe: undefined });
    expect(updated.at).toEqual(later);
    expect("maybe" in updated).toBe(false);
    expect(updated.big).toBe(input.big);
    const cached = await ctx.document.query(events).get(created.id);
    expect(cached.at).toEqual(later);
    expect("maybe" in cached).toBe(false);
    const stored = (await admin.query("SELECT data FROM events WHERE id = $1", [created.id])).rows[0].data;
    expect(stored).not.toHaveProperty("maybe");
    expect(stored.big).toBe((2n ** 70n + 1n).toString());
  });

  describe("patch rules", () => {
    let runtime: Runtime;
    let id: string;
    beforeAll(async () => {
      runtime = await start({ redis: "memory" });
      const created = await runtime
        .context()
        .document.command(notes)
        .create({ name: "n", note: "n", count: 3, gone: "g" });
      id = created.id;
    });
    const current = async () => (await admin.query("SELECT rev, data FROM notes WHERE id = $1", [id])).rows[0];

    it.each([
      ["an empty patch", {}, "empty_patch"],
      ["only unknown keys", { nmae: "x" }, "unrecognized_keys"],
      ["an unknown key beside a known one", { name: "x", extra: 1 }, "unrecognized_keys"],
      ["undefined for a required field", { name: undefined }, "invalid_type"],
      ["NUL in a string", { name: "a\u0000b" }, "invalid_text"],
      ["a lone surrogate", { note: "x\ud800y" }, "invalid_text"],
      ["a NUL in a nested key", { anything: { "k\u0000": 1 } }, "invalid_text"],
      ["a bigint where no z.bigint() is declared", { anything: { n: 1n } }, "not_json"],
      ["NaN in an untyped field", { anything: [Number.NaN] }, "not_json"],
      ["a Map in an untyped field", { anything: new Map([[1, 2]]) }, "not_json"],
    ])("%s is refused with a ValidationError; the row and its rev are untouched", async (_what, patch, code) => {
      const before = await current();
      const error = await runtime
        .context()
        .document.command(notes)
        .update(id, Number(before.rev), patch as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe("VALIDATION");
      expect((error as ValidationError).issues.map((issue) => issue.code)).toContain(code);
      expect(await current()).toEqual(before);
    });

    it("circular and 5,000-deep values are refused before zod or Postgres sees them", async () => {
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const deep: Record<string, unknown> = {};
      let cursor = deep;
      for (let i = 0; i < 5_000; i++) {
        const next: Record<string, unknown> = {};
        cursor.a = next;
        cursor = next;
      }
      const before = await current();
      for (const [anything, code] of [
        [circular, "circular"],
        [deep, "too_deep"],
      ] as const) {
        const error = await runtime
          .context()
          .document.command(notes)
          .update(id, Number(before.rev), { anything })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues[0]?.code).toBe(code);
      }
      expect(await current()).toEqual(before);
    });

    it("undefined unsets an optional field and resets a defaulted one; null is a value", async () => {
      const before = await current();
      const doc = await runtime
        .context()
        .document.command(notes)
        .update(id, Number(before.rev), { note: undefined, count: undefined, gone: null });
      expect(doc.rev).toBe(Number(before.rev) + 1);
      expect("note" in doc).toBe(false);
      expect(doc.count).toBe(7);
      expect(doc.gone).toBeNull();
      const after = await current();
      expect(after.data).not.toHaveProperty("note");
      expect(after.data.count).toBe(7);
    });
  });

  it("create refuses unstorable values with a ValidationError and writes nothing to Postgres or Redis", async () => {
    const namespace = `t:${randomUUID().slice(0, 8)}`;
    const runtime = await start({ redis: env.redisUrl!, namespace });
    const before = await rows();
    const bad: Array<Record<string, unknown>> = [
      { ...input, name: "\u0000" },
      { ...input, name: "\udfff" },
      { ...input, anything: 10n },
      { ...input, anything: [undefined] },
      { ...input, anything: { f: () => 1 } },
    ];
    for (const value of bad) {
      const error = await runtime
        .context()
        .document.command(events)
        .create(value as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
    }
    expect(await rows()).toBe(before);
    expect(await redisKeys(namespace)).toBe(0);
  });

  it("ids and id lists that are not UUIDs are refused with a ValidationError before any query", async () => {
    const runtime = await start({ redis: "memory" });
    const query = runtime.context().document.query(notes);
    const command = runtime.context().document.command(notes);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const calls: Array<() => Promise<unknown>> = [
      () => query.get("\u0000"),
      () => query.get("\ud800"),
      () => query.find(10n as never),
      () => query.find(circular as never),
      () => query.getMany("not a list" as never),
      () => query.findMany(null as never),
      () => query.findMany([randomUUID(), "\u0000"]),
      () => command.update(`${randomUUID()}\u0000`, 1, { name: "x" }),
      () => command.delete("\udfff"),
      () => command.create({ id: "\u0000", name: "x", gone: null }),
    ];
    for (const call of calls) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
    }
  });
});

describe("document values on the embedded default (PGlite + in-process L2)", () => {
  it("round-trips a Date and unsets optional fields", async () => {
    const memo = defineDocument({
      name: "memos",
      fields: z.object({ a: z.string(), b: z.string().optional(), when: z.date().optional() }),
      cache: {},
    });
    const system = await buildSystem({ postgres: "pglite", redis: "memory", documents: ["memos"] });
    const { runtime } = system;
    try {
      const command = runtime.context().document.command(memo);
      const created = await command.create({ a: "x", b: "y", when: new Date(5) });
      expect(created.when).toEqual(new Date(5));
      expect((await runtime.context().document.query(memo).get(created.id)).when).toEqual(new Date(5));
      const updated = await command.update(created.id, 1, { b: undefined, when: undefined });
      expect(updated).not.toHaveProperty("b");
      expect(updated).not.toHaveProperty("when");
      const stored = await runtime.context().document.query(memo).get(created.id, { skipCache: true });
      expect(stored).toMatchObject({ a: "x", rev: 2 });
      expect(stored).not.toHaveProperty("b");
    } finally {
      await system.stop();
    }
  });
});

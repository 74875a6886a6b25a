/**
 * The command port's input contract and the shape of what reads return, on real Postgres with the in-process L2
 * and an L1: bad payloads are refused whole with a ValidationError naming the field, and nothing is written;
 * documents are deep-frozen whichever tier serves them.
 */

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Runtime } from "../../src/index.js";
import { defineDocument, ValidationError } from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true });

const items = defineDocument({
  name: "items",
  fields: z.object({
    name: z.string().min(1),
    price: z.number().int().nonnegative(),
    tags: z.array(z.string()),
    dims: z.object({ w: z.number(), h: z.number() }),
  }),
  cache: { ttl: "5m", l1: { ttl: "1m" } },
});

describe.skipIf(env.skip)("commands and returned documents", () => {
  let system: System;
  let runtime: Runtime;
  let admin: pg.Pool;
  const rows = async () => Number((await admin.query("SELECT count(*) AS n FROM items")).rows[0].n);

  beforeAll(async () => {
    system = await buildSystem({ postgres: env.postgres!.url, redis: "memory", documents: ["items"] });
    runtime = system.runtime;
    admin = new pg.Pool({ connectionString: env.postgres!.url, max: 1 });
    admin.on("error", () => {});
  });
  afterAll(async () => {
    await system?.stop();
    await admin?.end();
  });

  const valid = { name: "Box", price: 5, tags: ["a"], dims: { w: 1, h: 2 } };

  it.each([
    ["a wrong type", { ...valid, price: "5" }, "price"],
    ["a missing field", { name: "Box", price: 5, tags: [] }, "dims"],
    ["a nested wrong type", { ...valid, dims: { w: 1, h: "2" } }, "dims.h"],
    ["a refinement", { ...valid, price: -1 }, "price"],
    ["an array item", { ...valid, tags: ["a", 3] }, "tags.1"],
  ])("create with %s is a ValidationError naming the field, and writes nothing", async (_what, input, path) => {
    const before = await rows();
    const error = await runtime
      .context()
      .document.command(items)
      .create(input as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path.join("."))).toContain(path);
    expect(await rows()).toBe(before);
  });

  it("update with a bad patch is a ValidationError; the row, its rev and the caches keep the old version", async () => {
    const ctx = runtime.context();
    const created = await ctx.document.command(items).create(valid);
    await ctx.document.query(items).get(created.id); // cached in L2 and L1
    const error = await ctx.document
      .command(items)
      .update(created.id, created.rev, { price: "cheap" } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const stored = (await admin.query("SELECT rev, data FROM items WHERE id = $1", [created.id])).rows[0];
    expect(Number(stored.rev)).toBe(1);
    expect(stored.data.price).toBe(5);
    expect(await ctx.document.query(items).get(created.id)).toMatchObject({ rev: 1, price: 5 });
    expect(await ctx.document.query(items).get(created.id, { skipCache: true })).toMatchObject({ rev: 1 });
  });

  it("documents are deep-frozen from every tier: Postgres, L2 and L1", async () => {
    const ctx = runtime.context();
    const created = await ctx.document.command(items).create(valid);
    const fromPostgres = await ctx.document.query(items).get(created.id, { skipCache: true });
    const fromL2 = await ctx.document.query(items).get(created.id); // L1 empty until this fill
    const fromL1 = await ctx.document.query(items).get(created.id);
    expect(fromL1).toBe(fromL2); // the very object, no copy per hit
    for (const doc of [created, fromPostgres, fromL2, fromL1]) {
      expect(Object.isFrozen(doc)).toBe(true);
      expect(Object.isFrozen(doc.tags)).toBe(true);
      expect(Object.isFrozen(doc.dims)).toBe(true);
      expect(Object.isFrozen(doc.createdAt)).toBe(true);
      expect(doc.createdAt).toBeInstanceOf(Date);
      // ESM is strict mode: writing to a frozen object throws.
      expect(() => (doc.tags as string[]).push("x")).toThrow(TypeError);
      expect(() => {
        (doc.dims as { w: number }).w = 9;
      }).toThrow(TypeError);
      expect(doc).toMatchObject({ tags: ["a"], dims: { w: 1, h: 2 } });
    }
  });
});

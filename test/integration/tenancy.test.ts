/**
 * Tenant isolation: a tenant-scoped document refuses a context without a tenant; two tenants using the same ids
 * never see each other's data from any tier (L1, L2, Postgres) under the three tiers (tagged keys, a namespace per
 * tenant, a dedicated Redis per tenant); every SQL statement of the document filters on the tenant; push
 * invalidation reaches a tagged tenant's L1 across runtimes; and a fast-check property runs random operations by
 * several tenants on overlapping ids.
 */
import { randomBytes, randomUUID } from "node:crypto";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Runtime } from "../../src/index.js";
import { defineDocument, NotFoundError, TenantRequiredError } from "../../src/index.js";
import { entryPrefix, idKey, tenantKeyspace } from "../../src/l2/key-layout.js";
import { waitUntil } from "../support/eventually.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, QueryCounter } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });
const notes = defineDocument({
  name: "notes",
  fields: z.object({ owner: z.string(), text: z.string() }),
  cache: { ttl: "5m", l1: { ttl: "1m" } },
  tenantScoped: true,
});
const products = productSpec({ ttl: "5m" });
const documents = ["products", "notes"];
const sealing = { encryption: { keys: { k1: randomBytes(32) }, active: "k1" } };

describe.skipIf(env.skip)("tenant contexts (tagged tier, sealed)", () => {
  let system: System;
  const sql = new QueryCounter();
  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents,
      specs: [notes],
      cacheOptions: sealing,
      onQuery: sql.onQuery,
    });
  });
  afterAll(() => system?.stop());

  it("a tenant-scoped document refuses a context without a tenant; other documents ignore the tenant", async () => {
    const { runtime } = system;
    expect(() => runtime.context().document.query(notes)).toThrow(TenantRequiredError);
    expect(() => runtime.context().document.command(notes)).toThrow(
      expect.objectContaining({ code: "TENANT_REQUIRED" }),
    );
    expect(() => runtime.context({ tenant: "no:colons" })).toThrow(/tenant id/);
    const created = await runtime
      .context({ tenant: "acme" })
      .document.command(products)
      .create({ name: "p", price: 1 });
    expect(await runtime.context().document.query(products).get(created.id)).toMatchObject({ name: "p" });
  });

  it("two tenants with the same id: each reads its own from every tier; a third finds nothing; writes stay apart", async () => {
    const { runtime } = system;
    const id = randomUUID();
    const acme = runtime.context({ tenant: "acme" });
    const globex = runtime.context({ tenant: "globex" });
    await acme.document.command(notes).create({ id, owner: "acme", text: "a1" });
    await globex.document.command(notes).create({ id, owner: "globex", text: "g1" });
    for (let round = 0; round < 2; round++) {
      // Round 0 fills L2 and L1; round 1 hits L1. A fresh peer (below) reads L2.
      expect(await acme.document.query(notes).get(id)).toMatchObject({ owner: "acme" });
      expect(await globex.document.query(notes).get(id)).toMatchObject({ owner: "globex" });
      expect(await runtime.context({ tenant: "initech" }).document.query(notes).find(id)).toBeUndefined();
    }
    const peer = await system.startPeer();
    expect(await peer.context({ tenant: "globex" }).document.query(notes).getMany([id])).toMatchObject([
      { owner: "globex" },
    ]);
    expect(peer.stats().documents["notes@globex"]!.l2.hits).toBe(1);
    await expect(
      runtime.context({ tenant: "initech" }).document.command(notes).update(id, 1, { text: "x" }),
    ).rejects.toThrow(NotFoundError);
    await acme.document.command(notes).update(id, 1, { text: "a2" });
    expect(await globex.document.query(notes).get(id)).toMatchObject({ text: "g1", rev: 1 });
    await globex.document.command(notes).delete(id, 1);
    expect(await acme.document.query(notes).get(id)).toMatchObject({ text: "a2", rev: 2 });
    // The tenant is in every key: the two entries are distinct keys carrying the tenant.
    const raw = system.raw();
    const key = (tenant: string) =>
      idKey(entryPrefix(`${system.namespace}:notes`, tenantKeyspace(notes.fingerprint, tenant)), id);
    expect(await raw.exists(key("acme"))).toBe(1);
    expect(await raw.get(key("acme"))).toContain(`|${notes.fingerprint}@acme|`);
  });

  it("every SQL statement of the tenant-scoped document filters on the tenant", async () => {
    sql.reset();
    const ctx = system.runtime.context({ tenant: "acme" });
    const doc = await ctx.document.command(notes).create({ owner: "acme", text: "t" });
    await ctx.document.query(notes).findMany([doc.id, randomUUID()]);
    await ctx.document.command(notes).update(doc.id, 1, { text: "u" });
    await ctx.document
      .command(notes)
      .update(doc.id, 1, { text: "stale" })
      .catch(() => {}); // conflict: a rev lookup
    await ctx.transaction((tx) => tx.document.query(notes).get(doc.id));
    await ctx.document.command(notes).delete(doc.id, 2);
    const statements = sql.statements.filter((s) => /\bnotes\b/.test(s) && !/pg_get_serial_sequence/.test(s));
    const inserts = sql.statements.filter((s) => /INSERT INTO/.test(s) && /notes/.test(s));
    expect(statements.length).toBeGreaterThanOrEqual(6);
    for (const statement of statements) expect(statement).toMatch(/tenant = \$\d/);
    expect(inserts).toHaveLength(1);
    expect(inserts[0]).toMatch(/, tenant\)/);
  });
});

describe.skipIf(env.skip)("namespace and dedicated tiers", () => {
  let own: RedisProcess;
  let system: System;
  beforeAll(async () => {
    own = await startRedis();
  });
  afterAll(async () => {
    await system?.stop();
    await own?.stop();
  });

  it("namespace tier: each tenant's entries live under its own namespace", async () => {
    const base = `tn:${randomUUID().slice(0, 8)}`;
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents,
      specs: [notes],
      namespace: base,
      cacheOptions: { tenancy: { namespace: (tenant: string) => `${base}-tenant-${tenant}` } },
    });
    const id = randomUUID();
    for (const tenant of ["acme", "globex"]) {
      const ctx = system.runtime.context({ tenant });
      await ctx.document.command(notes).create({ id, owner: tenant, text: tenant });
      expect(await ctx.document.query(notes).get(id)).toMatchObject({ owner: tenant });
      await ctx.cache("notes").set("k", tenant);
    }
    const raw = system.raw();
    const stored = await raw.get(idKey(entryPrefix(`${base}-tenant-acme`, notes.fingerprint), id));
    expect(stored).toContain('"owner":"acme"');
    expect(await raw.get(`${base}-tenant-globex:kv:k`)).toContain("globex");
    expect(await system.runtime.context({ tenant: "acme" }).cache("notes").get("k")).toBe("acme");
    await system.stop();
  });

  it("dedicated tier: a tenant's entries live on its own Redis; push falls back to TTL there", async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents,
      specs: [notes],
      push: true,
      cacheOptions: { tenancy: { dedicated: (tenant: string) => (tenant === "acme" ? own.url : env.redisUrl!) } },
      redisTimeoutMs: 5_000, // a fill that timed out on a loaded machine would leave the entry in L1 only
    });
    const id = randomUUID();
    const ctx = system.runtime.context({ tenant: "acme" });
    // The tenant's own Redis opens on first use; what is sent meanwhile waits for it rather than failing.
    await ctx.cache("notes").set("ready", "1");
    expect(await ctx.cache("notes").get("ready")).toBe("1");
    await ctx.document.command(notes).create({ id, owner: "acme", text: "a" });
    expect(await ctx.document.query(notes).get(id)).toMatchObject({ id, owner: "acme" });
    await system.runtime.settled(); // the fill lands behind the read
    expect(ctx.document.query(notes).stats().source.fills).toBe(1);
    const ownRaw = new Redis(own.url);
    try {
      const key = idKey(entryPrefix(`${system.namespace}:notes`, notes.fingerprint), id);
      expect(await ownRaw.get(key)).toContain('"owner":"acme"');
      expect(await system.raw().exists(key)).toBe(0);
    } finally {
      ownRaw.disconnect();
    }
    // Not attached to the route's push channel: its L1 runs on l1.ttl alone.
    expect(system.runtime.stats().caches.notes!.push.state).toBe("armed");
    await system.stop();
  });

  it("dedicated tier, tenant Redis down: reads fall through to Postgres, writes to it fail, after its first attempt", async () => {
    const down = await startRedis();
    await down.stop(); // a port nothing listens on any more
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents,
      specs: [notes],
      cacheOptions: { tenancy: { dedicated: (tenant: string) => (tenant === "acme" ? down.url : env.redisUrl!) } },
    });
    const id = randomUUID();
    const ctx = system.runtime.context({ tenant: "acme" });
    await ctx.document.command(notes).create({ id, owner: "acme", text: "a" });
    for (let i = 0; i < 3; i++) {
      expect(await ctx.document.query(notes).get(id)).toMatchObject({ id, owner: "acme" });
      await expect(ctx.cache("notes").set("k", "v")).rejects.toMatchObject({ code: "UNAVAILABLE" });
    }
    await system.runtime.settled();
    expect(ctx.document.query(notes).stats().l2.errors).toBeGreaterThan(0);
    await system.stop();
  });
});

describe.skipIf(env.skip)("push invalidation with tagged tenants across two runtimes", () => {
  let system: System;
  afterAll(() => system?.stop());

  it("a write by tenant acme on A drops acme's entry from B's L1, and leaves globex's same id alone", async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents,
      specs: [notes],
      push: true,
      cacheOptions: sealing,
    });
    const b = await system.startPeer();
    const id = randomUUID();
    const writer = system.runtime.context({ tenant: "acme" });
    await writer.document.command(notes).create({ id, owner: "acme", text: "v1" });
    await system.runtime
      .context({ tenant: "globex" })
      .document.command(notes)
      .create({ id, owner: "globex", text: "g" });
    const bAcme = b.context({ tenant: "acme" }).document.query(notes);
    const bGlobex = b.context({ tenant: "globex" }).document.query(notes);
    // B's own fill is pushed back to B once (as for any document): read until the entry settles in L1.
    for (const query of [bAcme, bGlobex]) {
      await waitUntil(async () => (await query.get(id)) !== undefined && query.peek(id) !== undefined);
    }
    expect(bAcme.peek(id)).toMatchObject({ text: "v1" });
    await writer.document.command(notes).update(id, 1, { text: "v2" });
    await waitUntil(() => bAcme.peek(id) === undefined);
    expect(await bAcme.get(id)).toMatchObject({ text: "v2" });
    expect(bGlobex.peek(id)).toMatchObject({ owner: "globex", text: "g" });
  });
});

describe.skipIf(env.skip).each(["tagged", "namespace"] as const)("tenant isolation property (%s tier)", (tier) => {
  let system: System;
  let plain: Runtime;
  beforeAll(async () => {
    const base = `tp:${randomUUID().slice(0, 8)}`;
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents,
      specs: [notes],
      namespace: base,
      cacheOptions: {
        ...sealing,
        ...(tier === "namespace" ? { tenancy: { namespace: (t: string) => `${base}-t-${t}` } } : {}),
      },
    });
    // A second runtime on the same servers: reads its L2 (written through by the first) and Postgres.
    plain = await system.startPeer();
  });
  afterAll(() => system?.stop());

  it("no read, from any tier, in any order of operations, returns another tenant's data", async () => {
    const tenants = ["t1", "t2", "t3"];
    const op = fc.record({
      kind: fc.constantFrom("create", "update", "delete", "get", "getMany", "peerGet"),
      tenant: fc.constantFrom(...tenants),
      slot: fc.nat(2),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), async (ops) => {
        const ids = [randomUUID(), randomUUID(), randomUUID()];
        const model = new Map<string, { rev: number; text: string }>(); // `${tenant}/${id}`
        let n = 0;
        for (const { kind, tenant, slot } of ops) {
          const id = ids[slot]!;
          const at = `${tenant}/${id}`;
          const ctx = system.runtime.context({ tenant });
          const known = model.get(at);
          if (kind === "create" && known === undefined) {
            const text = `${tenant}-${n++}`;
            await ctx.document.command(notes).create({ id, owner: tenant, text });
            model.set(at, { rev: 1, text });
          } else if (kind === "update" && known !== undefined) {
            const text = `${tenant}-${n++}`;
            await ctx.document.command(notes).update(id, known.rev, { text });
            model.set(at, { rev: known.rev + 1, text });
          } else if (kind === "delete" && known !== undefined) {
            await ctx.document.command(notes).delete(id, known.rev);
            model.delete(at);
          } else {
            const reader = kind === "peerGet" ? plain.context({ tenant }) : ctx;
            const found =
              kind === "getMany"
                ? await reader.document.query(notes).findMany(ids)
                : [await reader.document.query(notes).find(id)];
            const asked = kind === "getMany" ? ids : [id];
            found.forEach((doc, i) => {
              if (doc !== undefined) {
                expect(doc.owner).toBe(tenant);
                expect(doc.text.startsWith(`${tenant}-`)).toBe(true);
              }
              // The writer reads its writes; the peer's L1 (push off here) may lag within l1.ttl, never cross tenants.
              if (kind === "peerGet") return;
              const expected = model.get(`${tenant}/${asked[i]}`);
              expect(doc === undefined ? undefined : { rev: doc.rev, text: doc.text }).toEqual(expected);
            });
          }
        }
      }),
      { numRuns: 12 },
    );
  });
});

/**
 * The runtime's lifecycle and wiring over real Postgres and Redis (and PGlite): start fails fast and clearly, stop
 * is idempotent and closes only what it opened, routes are checked, ports are memoized per context, and the
 * README's first example runs end to end with Postgres only.
 */
import { PGlite } from "@electric-sql/pglite";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  createRuntime,
  defineDocument,
  postgresModule,
  RuntimeStateError,
  redisModule,
  StrataError,
  silentLogger,
} from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { productSpec } from "../support/strata.js";
import { buildSystem } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });
const products = productSpec({ ttl: "5m" });

describe("runtime lifecycle", () => {
  it("fails fast with a clear message when Postgres is unreachable, and opens nothing", async () => {
    const runtime = createRuntime({
      modules: [postgresModule({ url: "postgres://postgres:secret@127.0.0.1:1/nope", documents: { products: {} } })],
      logger: silentLogger,
    });
    const started = Date.now();
    const error = await runtime.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe("UNAVAILABLE");
    expect((error as Error).message).toMatch(/Postgres is unreachable at 127\.0\.0\.1:1/);
    expect((error as Error).message).not.toContain("secret");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(runtime.state).toBe("stopped");
    await runtime.stop(); // idempotent, even after a failed start
  });

  it("refuses work before start and after stop", async () => {
    const runtime = createRuntime({
      modules: [postgresModule({ pglite: true, documents: { products: {} } })],
      logger: silentLogger,
    });
    expect(() => runtime.context()).toThrow(RuntimeStateError);
    await runtime.start();
    const ctx = runtime.context();
    await runtime.stop();
    await runtime.stop();
    expect(() => ctx.document.query(products)).toThrow(RuntimeStateError);
    await expect(runtime.start()).rejects.toBeInstanceOf(RuntimeStateError);
  });

  it("with documents listed, start() wires them and fails fast on one without a route, opening nothing", async () => {
    const orders = defineDocument({ name: "orders", fields: productSpec().fields });
    const failing = createRuntime({
      modules: [postgresModule({ pglite: true, documents: { products: {} } })],
      documents: [products, orders],
      logger: silentLogger,
    });
    const error = await failing.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).path).toBe("documents.orders");
    expect(failing.state).toBe("stopped");
    expect(() => failing.context()).toThrow(RuntimeStateError);

    const fine = createRuntime({
      modules: [postgresModule({ pglite: true, documents: { products: {} } })],
      documents: [products],
      logger: silentLogger,
    });
    await fine.start();
    try {
      expect(fine.stats().documents.products).toBeDefined(); // wired at start, before any use
    } finally {
      await fine.stop();
    }
    const modules = [postgresModule({ pglite: true, documents: { products: {} } })];
    expect(() => createRuntime({ modules, documents: [{ name: "x" } as never] })).toThrow(/documents\[0\]/);
  });

  it("names the document and the missing route for an unrouted spec", async () => {
    const system = await buildSystem({ postgres: "pglite", redis: "none" });
    const { runtime } = system;
    try {
      const orders = defineDocument({ name: "orders", fields: productSpec().fields });
      const error = (() => {
        try {
          runtime.context().document.query(orders);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).path).toBe("documents.orders");
      expect((error as Error).message).toMatch(/has no route/);
      expect(() => runtime.context().cache("nowhere")).toThrow(ConfigurationError);
    } finally {
      await system.stop();
    }
  });

  it("memoizes ports per context and shares one coordinator across contexts", async () => {
    const system = await buildSystem({ postgres: "pglite", redis: "none" });
    const { runtime } = system;
    try {
      const a = runtime.context();
      const b = runtime.context();
      expect(a.document.query(products)).toBe(a.document.query(products));
      expect(a.document.command(products)).toBe(a.document.command(products));
      expect(a.document.query(products)).not.toBe(b.document.query(products));
      const created = await a.document.command(products).create({ name: "x", price: 1 });
      await b.document.query(products).get(created.id);
      expect(a.document.query(products).stats().source.fetches).toBe(1); // stats are per runtime, not per context
    } finally {
      await system.stop();
    }
  });

  it.skipIf(env.skip)("leaves a user-supplied pool and Redis client open on stop", async () => {
    const pool = new pg.Pool({ connectionString: env.postgres!.url, max: 2 });
    const client = new Redis(env.redisUrl!);
    const runtime = createRuntime({
      modules: [
        postgresModule({ pool, documents: { products: {} } }),
        redisModule({ client, caches: { products: { namespace: "own" } } }),
      ],
      logger: silentLogger,
    });
    await runtime.start();
    const created = await runtime.context().document.command(products).create({ name: "x", price: 1 });
    await runtime.context().document.query(products).get(created.id);
    await runtime.stop();
    expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    expect(await client.ping()).toBe("PONG");
    await pool.end();
    client.disconnect();
  });

  it("leaves a user-supplied PGlite open on stop", async () => {
    const pglite = await PGlite.create();
    const runtime = createRuntime({
      modules: [postgresModule({ pglite, documents: { products: {} } })],
      logger: silentLogger,
    });
    await runtime.start();
    await runtime.context().document.command(products).create({ name: "x", price: 1 });
    await runtime.stop();
    expect((await pglite.query<{ n: number }>("SELECT count(*)::int AS n FROM products")).rows[0]?.n).toBe(1);
    await pglite.close();
  });

  it("starts even when Redis is down, serving from Postgres, and says so", async () => {
    const warnings: string[] = [];
    const system = await buildSystem({
      postgres: "pglite",
      redis: { url: "redis://127.0.0.1:1" },
      logger: { ...silentLogger, warn: (message) => warnings.push(message) },
    });
    const { runtime } = system;
    try {
      const created = await runtime.context().document.command(products).create({ name: "x", price: 1 });
      expect((await runtime.context().document.query(products).get(created.id)).name).toBe("x");
      expect(runtime.context().document.query(products).stats().l2.errors).toBeGreaterThanOrEqual(1);
      expect(warnings.some((w) => /redis is unreachable/.test(w))).toBe(true);
    } finally {
      await system.stop();
    }
  });
});

describe("the DESIGN.md §1 example with Postgres only (no cache module: reads go to Postgres)", () => {
  const engines = [
    ...(env.skip
      ? []
      : [
          {
            name: "real Postgres",
            module: () =>
              postgresModule({ url: env.postgres!.url, documents: { products: { table: "design_products" } } }),
          },
        ]),
    {
      name: "PGlite",
      module: () => postgresModule({ pglite: true, documents: { products: { table: "design_products" } } }),
    },
  ];
  it.each(engines)("runs on $name", async ({ module }) => {
    const spec = defineDocument({
      name: "products",
      fields: productSpec().fields,
      cache: { ttl: "5m", l1: { ttl: "2s", capacity: 1024, policy: "tinylfu" } },
    });
    const runtime = createRuntime({ modules: [module()], logger: silentLogger });
    await runtime.start();
    try {
      const ctx = runtime.context();
      const docs = ctx.document.command(spec);
      const query = ctx.document.query(spec);
      const p = await docs.create({ name: "Widget", price: 10 });
      await query.get(p.id);
      await query.get(p.id);
      await docs.update(p.id, p.rev, { price: 12 });
      expect((await query.get(p.id)).price).toBe(12);
      expect(query.stats().source.fetches).toBe(3); // uncached: every get went to Postgres
      expect(query.stats().l1).toBeUndefined();
    } finally {
      await runtime.stop();
    }
  });
});

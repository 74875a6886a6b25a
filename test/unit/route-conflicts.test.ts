/**
 * createRuntime refuses modules whose routes would silently share data (see src/runtime/route-conflicts.ts): two
 * documents on one table of one database, two caches on one (or an overlapping) namespace of one Redis server. The
 * error names both routes. Nothing is opened: these checks run at construction.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { RuntimeModule } from "../../src/index.js";
import { ConfigurationError, createRuntime, memoryCacheModule, postgresModule, redisModule } from "../../src/index.js";
import { namespacesOverlap } from "../../src/runtime/route-conflicts.js";

const pgUrl = "postgres://postgres@127.0.0.1:5432/app";
const redisUrl = "redis://127.0.0.1:6379";

function refuse(modules: RuntimeModule[]): ConfigurationError {
  try {
    createRuntime({ modules });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected createRuntime to refuse these modules");
}

function accept(modules: RuntimeModule[]): void {
  expect(createRuntime({ modules }).state).toBe("created");
}

describe("two documents on one table", () => {
  it("are refused within one postgresModule, naming both documents and the table", () => {
    const error = refuse([
      postgresModule({ url: pgUrl, documents: { products: { table: "items" }, orders: { table: "items" } } }),
    ]);
    expect(error.path).toBe("postgresModule.documents.orders.table");
    expect(error.message).toContain('document "orders"');
    expect(error.message).toContain('document "products"');
    expect(error.message).toContain("public.items");
  });

  it("are refused when the default table name of one is the explicit table of the other", () => {
    const error = refuse([
      postgresModule({ url: pgUrl, documents: { products: {}, catalog: { table: "products", schema: "public" } } }),
    ]);
    expect(error.message).toMatch(/"catalog".*public\.products.*"products"/);
  });

  it("are refused across two postgresModules on the same database, however the url spells it", () => {
    const error = refuse([
      postgresModule({ url: "postgres://postgres@127.0.0.1:5432/app", documents: { products: {} } }),
      postgresModule({
        url: "postgresql://other:pw@127.0.0.1/app?sslmode=disable",
        documents: { p2: { table: "products" } },
      }),
    ]);
    expect(error.path).toBe("postgresModule.documents.p2.table");
    expect(error.message).toContain('"products"');
  });

  it("are refused across two postgresModules sharing one pool", async () => {
    const pool = new pg.Pool({ connectionString: pgUrl });
    try {
      refuse([
        postgresModule({ pool, documents: { a: { table: "t" } } }),
        postgresModule({ pool, documents: { b: { table: "t" } } }),
      ]);
    } finally {
      await pool.end();
    }
  });

  it("are accepted in other schemas, other databases, or separate in-memory PGlites", () => {
    accept([postgresModule({ url: pgUrl, documents: { a: { table: "t" }, b: { table: "t", schema: "other" } } })]);
    accept([
      postgresModule({ url: pgUrl, documents: { a: { table: "t" } } }),
      postgresModule({ url: "postgres://postgres@127.0.0.1:5432/another", documents: { b: { table: "t" } } }),
    ]);
    accept([
      postgresModule({ pglite: true, documents: { a: { table: "t" } } }),
      postgresModule({ pglite: true, documents: { b: { table: "t" } } }),
    ]);
  });
});

describe("two caches on one Redis namespace", () => {
  const pgModule = postgresModule({ url: pgUrl, documents: { products: {} } });

  it("are refused within one redisModule, naming both caches and the namespace", () => {
    const error = refuse([
      pgModule,
      redisModule({ url: redisUrl, caches: { products: { namespace: "app" }, orders: { namespace: "app" } } }),
    ]);
    expect(error.path).toBe("redisModule.caches.orders.namespace");
    expect(error.message).toContain('cache "orders"');
    expect(error.message).toContain('cache "products"');
    expect(error.message).toContain('"app"');
  });

  it("are refused when one namespace holds the other's keys (a and a:kv, a and a|x)", () => {
    refuse([pgModule, redisModule({ url: redisUrl, caches: { a: { namespace: "app" }, b: { namespace: "app:kv" } } })]);
    refuse([pgModule, redisModule({ url: redisUrl, caches: { a: { namespace: "app|x" }, b: { namespace: "app" } } })]);
    expect(namespacesOverlap("app", "apple")).toBe(false);
    expect(namespacesOverlap("app:products", "app:orders")).toBe(false);
  });

  it("are refused across two redisModules on the same server and database", () => {
    const error = refuse([
      pgModule,
      redisModule({ url: "redis://127.0.0.1:6379/0", caches: { products: { namespace: "app" } } }),
      redisModule({ url: "redis://:secret@127.0.0.1", caches: { orders: { namespace: "app" } } }),
    ]);
    expect(error.message).toMatch(/cache "orders".*cache "products"/);
    expect(error.message).not.toContain("secret");
  });

  it("are refused between a url and a client naming the same server, and for one client shared twice", () => {
    const client = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    refuse([
      pgModule,
      redisModule({ url: redisUrl, caches: { products: { namespace: "app" } } }),
      redisModule({ client, caches: { orders: { namespace: "app" } } }),
    ]);
    refuse([
      pgModule,
      redisModule({ client, caches: { products: { namespace: "app" } } }),
      redisModule({ client, caches: { orders: { namespace: "app:products" } } }),
    ]);
    client.disconnect();
  });

  it("are refused within one memoryCacheModule (one keyspace), including a default namespace", () => {
    const error = refuse([
      pgModule,
      memoryCacheModule({ caches: { products: {}, orders: { namespace: "products" } } }),
    ]);
    expect(error.path).toBe("memoryCacheModule.caches.orders.namespace");
  });

  it("are accepted on other database numbers, other servers, and separate memory modules or backends", () => {
    accept([
      pgModule,
      redisModule({ url: "redis://127.0.0.1:6379/1", caches: { a: { namespace: "app" } } }),
      redisModule({ url: "redis://127.0.0.1:6379/2", caches: { b: { namespace: "app" } } }),
      redisModule({ url: "redis://127.0.0.1:6380", caches: { c: { namespace: "app" } } }),
    ]);
    accept([
      pgModule,
      memoryCacheModule({ caches: { a: { namespace: "app" } } }),
      memoryCacheModule({ caches: { b: { namespace: "app" } } }),
      redisModule({ url: redisUrl, caches: { c: { namespace: "app" } } }),
    ]);
  });
});

describe("the database number of a redis url", () => {
  it.each(["redis://127.0.0.1:6379/abc", "redis://127.0.0.1:6379/-1", "redis://127.0.0.1:6379/1.5", "redis://h/?db=x"])(
    "%s is refused at construction (ioredis would silently use database 0)",
    (url) => {
      let error: unknown;
      try {
        redisModule({ url, caches: { a: { namespace: "app" } } });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).path).toBe("redisModule.url");
    },
  );
});

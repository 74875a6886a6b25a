/**
 * createRuntime refuses modules whose routes would silently share data (see src/runtime/route-conflicts.ts): two
 * documents on one table of one database, two caches on one (or an overlapping) namespace of one Redis server. The
 * error names both routes. Nothing is opened: these checks run at construction.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { DocumentSpec, RuntimeModule } from "../../src/index.js";
import {
  ConfigurationError,
  createRuntime,
  defineDocument,
  memoryCacheModule,
  postgresModule,
  redisModule,
} from "../../src/index.js";
import { namespacesOverlap } from "../../src/runtime/route-conflicts.js";
import { productFields, productSpec } from "../support/strata.js";
import { expectConfigurationError } from "../support/throws.js";

const pgUrl = "postgres://postgres@127.0.0.1:5432/app";
const redisUrl = "redis://127.0.0.1:6379";

function refuse(modules: RuntimeModule[]): ConfigurationError {
  return expectConfigurationError(() => createRuntime({ modules }));
}

function refuseDocuments(modules: RuntimeModule[], documents: DocumentSpec[]): ConfigurationError {
  return expectConfigurationError(() => createRuntime({ modules, documents }));
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

describe("the documents listed in createRuntime", () => {
  const modules = [
    postgresModule({ url: pgUrl, documents: { products: {}, orders: {} } }),
    redisModule({ url: redisUrl, caches: { products: { namespace: "app:products" } } }),
  ];

  it("one name with two cache specs is refused at construction, naming what differs", () => {
    const error = refuseDocuments(modules, [productSpec({ ttl: "5m" }), productSpec({ ttl: "1m" })]);
    expect(error.path).toBe("documents.products.cache");
    expect(error.message).toContain("ttlMs 300000 vs 60000");
  });

  it("one name with an L1 policy factory compares the factory by identity", () => {
    const l1 = (policy: () => never) => productSpec({ l1: { ttl: "1s", policy: policy as never } });
    const factory = () => {
      throw new Error("unused");
    };
    expect(createRuntime({ modules, documents: [l1(factory), l1(factory)] }).state).toBe("created");
    const error = refuseDocuments(modules, [l1(factory), l1(() => factory())]);
    expect(error.message).toMatch(/l1 .*function#\d+.* vs .*function#\d+/);
  });

  it("one name with two field shapes, or cached and uncached, is refused", () => {
    const reshaped = defineDocument({
      name: "products",
      fields: productFields.extend({ sku: productFields.shape.name }),
    });
    expect(refuseDocuments(modules, [productSpec(), reshaped]).message).toContain("different fields");
    const uncached = defineDocument({ name: "products", fields: productFields });
    expect(refuseDocuments(modules, [productSpec(), uncached]).message).toContain("cached vs uncached");
  });

  it("two documents on one routed cache name are refused, naming both and the route", () => {
    const orders = defineDocument({ name: "orders", fields: productFields, cache: { name: "products" } });
    const error = refuseDocuments(modules, [productSpec(), orders]);
    expect(error.path).toBe("documents.orders.cache.name");
    expect(error.message).toMatch(/"orders".*cache "products".*"products"/);
  });

  it("the same spec twice, or equal specs defined twice, are one document", () => {
    const spec = productSpec();
    expect(createRuntime({ modules, documents: [spec, spec, productSpec()] }).state).toBe("created");
  });
});

/** Module and runtime options are validated when they are built: every bad option is a ConfigurationError naming it. */

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ConfigurationError,
  createRuntime,
  defineDocument,
  memoryCacheModule,
  postgresModule,
  redisModule,
} from "../../src/index.js";
import { expectConfigurationError } from "../support/throws.js";

const documents = { products: { table: "products" } };
const caches = { products: { namespace: "app:products" } };

describe("postgresModule options", () => {
  it("accepts url, pglite, and table/schema routes", () => {
    expect(postgresModule({ url: "postgres://x@h/db", documents }).routes.get("products")).toEqual({
      table: "products",
      schema: "public",
    });
    expect(postgresModule({ pglite: true, documents: { products: { schema: "s" } } }).routes.get("products")).toEqual({
      table: "products",
      schema: "s",
    });
  });

  it.each([
    [{ documents }, "postgresModule"],
    [{ url: "postgres://h/db", pglite: true, documents }, "postgresModule"],
    [{ url: "mysql://h/db", documents }, "postgresModule.url"],
    [{ url: "postgres://h/db", documents: {} }, "postgresModule.documents"],
    [{ url: "postgres://h/db", documents: { Products: {} } }, "postgresModule.documents.Products"],
    [{ url: "postgres://h/db", documents: { products: { tabel: "x" } } }, "postgresModule.documents.products.tabel"],
    [{ url: "postgres://h/db", documents: { products: { table: "" } } }, "postgresModule.documents.products.table"],
    [{ url: "postgres://h/db", documents: { products: { table: "x".repeat(70) } } }, undefined],
    [{ url: "postgres://h/db", documents, migrate: "yes" }, "postgresModule.migrate"],
    [{ url: "postgres://h/db", documents, migrat: true }, "postgresModule.migrat"],
    [{ url: "postgres://h/db", documents, queryTimeoutMs: 0 }, "postgresModule.queryTimeoutMs"],
    [{ url: "postgres://h/db", documents, queryTimeoutMs: "5s" }, "postgresModule.queryTimeoutMs"],
    [{ url: "postgres://h/db", documents, preparedStatements: "no" }, "postgresModule.preparedStatements"],
  ])("refuses %j", (options, path) => {
    const error = expectConfigurationError(() => postgresModule(options as never));
    if (path) expect(error.path).toBe(path);
  });
});

describe("redisModule options", () => {
  it("accepts a url and routes", () => {
    expect(redisModule({ url: "redis://127.0.0.1:6379", caches }).names).toEqual(["products"]);
  });

  it.each([
    [{ caches }, "redisModule"],
    [{ url: "http://x", caches }, "redisModule.url"],
    [{ url: "redis://x", caches: {} }, "redisModule.caches"],
    [{ url: "redis://x", caches: { products: {} } }, "redisModule.caches.products.namespace"],
    [{ url: "redis://x", caches: { products: { namespace: "a b" } } }, "redisModule.caches.products.namespace"],
    [{ url: "redis://x", caches: { products: { namespace: "a{b}" } } }, "redisModule.caches.products.namespace"],
    [
      { url: "redis://x", caches: { products: { namespace: "a", invalidationPush: "yes" } } },
      "redisModule.caches.products.invalidationPush",
    ],
    [{ url: "redis://x", caches: { products: { namespace: "a", push: true } } }, "redisModule.caches.products.push"],
    [{ url: "redis://x", caches, timeoutMs: 0 }, "redisModule.timeoutMs"],
    [{ url: "redis://x", client: {}, caches }, "redisModule"],
  ])("refuses %j", (options, path) => {
    expect(expectConfigurationError(() => redisModule(options as never)).path).toBe(path);
  });
});

describe("memoryCacheModule options", () => {
  it("defaults the namespace to the cache name", async () => {
    expect(memoryCacheModule({ caches: { products: {} } }).names).toEqual(["products"]);
  });
  it.each([
    [{ caches: {} }, "memoryCacheModule.caches"],
    [{ caches: { products: { ns: "x" } } }, "memoryCacheModule.caches.products.ns"],
    [{ caches, maxEntries: -1 }, "memoryCacheModule.maxEntries"],
  ])("refuses %j", (options, path) => {
    expect(expectConfigurationError(() => memoryCacheModule(options as never)).path).toBe(path);
  });
});

describe("cache route names", () => {
  it("accept every name a cache spec accepts, on both cache modules", () => {
    const spec = defineDocument({
      name: "products",
      fields: z.object({ n: z.number() }),
      cache: { name: "App:Products.v2-x_y" },
    });
    const name = spec.cache!.name;
    expect(redisModule({ url: "redis://x", caches: { [name]: { namespace: "a" } } }).names).toEqual([name]);
    expect(memoryCacheModule({ caches: { [name]: {} } }).names).toEqual([name]);
  });
  it.each(["9lives", "a b", "", "a{b}", "x".repeat(129)])("refuse %j, like a cache spec does", (name) => {
    expect(() => defineDocument({ name: "p", fields: z.object({}), cache: { name } })).toThrow(ConfigurationError);
    expect(expectConfigurationError(() => memoryCacheModule({ caches: { [name]: {} } })).path).toBe(
      `memoryCacheModule.caches.${name}`,
    );
    expect(
      expectConfigurationError(() => redisModule({ url: "redis://x", caches: { [name]: { namespace: "a" } } })).path,
    ).toBe(`redisModule.caches.${name}`);
  });
});

describe("createRuntime options", () => {
  const pgm = postgresModule({ pglite: true, documents });
  it.each([
    [{ modules: [] }, "modules"],
    [{ modules: [pgm, {}] }, "modules[1]"],
    [{ modules: [pgm, postgresModule({ pglite: true, documents })] }, "documents.products"],
    [{ modules: [pgm, memoryCacheModule({ caches }), memoryCacheModule({ caches })] }, "caches.products"],
    [{ modules: [pgm], refreshConcurrency: 0 }, "refreshConcurrency"],
  ])("refuses %#", (options, path) => {
    expect(expectConfigurationError(() => createRuntime(options as never)).path).toBe(path);
  });
});

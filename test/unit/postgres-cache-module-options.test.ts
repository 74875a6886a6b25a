/** postgresCacheModule checks its options at construction: each bad one is a ConfigurationError naming its path. */
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../src/kernel/errors.js";
import { postgresCacheModule } from "../../src/runtime/modules/postgres-cache-module.js";

const url = "postgres://postgres@127.0.0.1:5432/app";

describe("postgresCacheModule options", () => {
  it.each([
    ["no source", { caches: { c: {} } }, "postgresCacheModule"],
    ["two sources", { url, pglite: true, caches: { c: {} } }, "postgresCacheModule"],
    ["a non-postgres url", { url: "mysql://x", caches: { c: {} } }, "postgresCacheModule.url"],
    ["no caches", { url, caches: {} }, "postgresCacheModule.caches"],
    ["an unknown option", { url, caches: { c: {} }, sweep: 1 }, "postgresCacheModule.sweep"],
    ["a bad table name", { url, caches: { c: { table: "Cache Table" } } }, "postgresCacheModule.caches.c.table"],
    ["a too long table name", { url, caches: { c: { table: "t".repeat(57) } } }, "postgresCacheModule.caches.c.table"],
    [
      "a namespace with braces",
      { url, caches: { c: { namespace: "a{b}" } } },
      "postgresCacheModule.caches.c.namespace",
    ],
    ["a bad sweepInterval", { url, caches: { c: {} }, sweepInterval: "soon" }, "postgresCacheModule.sweepInterval"],
    ["a bad sweepBatch", { url, caches: { c: {} }, sweepBatch: 0 }, "postgresCacheModule.sweepBatch"],
    [
      "a bad maxValueBytes",
      { url, caches: { c: { maxValueBytes: -1 } } },
      "postgresCacheModule.caches.c.maxValueBytes",
    ],
  ])("refuses %s", (_what, options, path) => {
    let error: unknown;
    try {
      postgresCacheModule(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).path).toBe(path);
  });

  it("accepts a url with defaults and routes each cache to its table and namespace", () => {
    const module = postgresCacheModule({ url, caches: { a: {}, b: { table: "other_cache", namespace: "bee" } } });
    expect(module.names).toEqual(["a", "b"]);
    expect(module.namespaces.map((n) => n.namespace)).toEqual(["a", "bee"]);
    // Namespaces collide only within one table: the two routes name different places.
    expect(module.namespaces[0]!.location).not.toEqual(module.namespaces[1]!.location);
  });
});

/**
 * A caller's Redis client and pg pool are recognised by shape — the members stratacache calls — never by
 * `instanceof`, so clients built by another copy or major of ioredis / pg fit, and anything else is refused.
 */
import { Redis as Redis6 } from "ioredis6";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { postgresModule, redisModule } from "../../src/index.js";
import { expectConfigurationError } from "../support/throws.js";

const caches = { products: { namespace: "app:products" } };
const documents = { products: {} };

describe("redisModule client", () => {
  it("accepts a client of another copy and major of ioredis (6), without connecting it", () => {
    const client = new Redis6({ lazyConnect: true });
    expect(redisModule({ client, caches }).names).toEqual(["products"]);
    expect(client.status).toBe("wait");
  });

  const clientish = {
    isCluster: false,
    get() {},
    mget() {},
    getBuffer() {},
    mgetBuffer() {},
    set() {},
    del() {},
    exists() {},
    multi() {},
    defineCommand() {},
    duplicate() {},
  };
  const { getBuffer: _, ...noGetBuffer } = clientish;
  it.each([
    ["an empty object", {}],
    ["a url string", "redis://127.0.0.1:6379"],
    ["a Map", new Map()],
    ["a client without getBuffer", noGetBuffer],
    ["a client whose isCluster is not a boolean", { ...clientish, isCluster: "no" }],
  ])("refuses %s, naming what it looks for", (_name, client) => {
    const error = expectConfigurationError(() => redisModule({ client: client as never, caches }));
    expect(error.path).toBe("redisModule.client");
    expect(error.message).toMatch(/ioredis \(5 or 6\) Redis or Cluster client, with get, mget, .*isCluster/);
  });

  it("accepts anything with that shape (it is the contract, not the class)", () => {
    expect(redisModule({ client: clientish, caches }).names).toEqual(["products"]);
  });
});

describe("postgresModule pool", () => {
  it("accepts a pg.Pool and an object with the same query/connect shape, without connecting", () => {
    const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
    expect(postgresModule({ pool, documents }).routes.has("products")).toBe(true);
    expect(pool.totalCount).toBe(0);
    const foreign = { query: async () => ({ rows: [] }), connect: async () => ({ query: pool.query, release() {} }) };
    expect(postgresModule({ pool: foreign, documents }).routes.has("products")).toBe(true);
  });

  it.each([
    ["an empty object", {}],
    ["a url string", "postgres://h/db"],
    ["an object without connect", { query() {} }],
    ["an object without query", { connect() {} }],
  ])("refuses %s", (_name, pool) => {
    expect(expectConfigurationError(() => postgresModule({ pool: pool as never, documents })).path).toBe(
      "postgresModule.pool",
    );
  });
});

/**
 * The bad-input table: misuses of every public entry point — specs, module and runtime options, ids, create
 * payloads, update patches, delete revs, key/value calls, data planted in Redis under the library's own keys, and
 * lifecycle misuse. Each row asserts the typed error and its code (or the correct result), that nothing was written
 * to Postgres or Redis, and that the process is still healthy (see test/support/bad-input.ts).
 *
 * To add a row, append it to the group it belongs to; its name must be unique.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { z as z3 } from "zod/v3";
import type { CachePort, Context, Doc, DocumentCommand, DocumentQuery, PushStats, Runtime } from "../../src/index.js";
import {
  AbortError,
  ConfigurationError,
  ConflictError,
  createL1Store,
  createRuntime,
  defineDocument,
  memoryCacheModule,
  NotFoundError,
  postgresModule,
  RuntimeStateError,
  redisModule,
  silentLogger,
  ValidationError,
} from "../../src/index.js";
import { decodeEntry } from "../../src/l2/entry-envelope.js";
import { kvPrefix } from "../../src/l2/key-layout.js";
import type { BadInputRow } from "../support/bad-input.js";
import { BadInputHarness, checkUniqueNames, rejects, resolves } from "../support/bad-input.js";
import { startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productFields, versionFloorKey } from "../support/strata.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

const NAMESPACE = "bad";
const products = defineDocument({ name: "products", fields: productFields, cache: {} });
/** A document behind an L1, so id checks are exercised on the L1 hit path's entry point too. */
const gadgets = defineDocument({ name: "gadgets", fields: productFields, cache: { l1: { ttl: "1m" } } });
/** A document no postgresModule routes. */
const unrouted = defineDocument({ name: "unrouted", fields: productFields, cache: {} });
/** A document whose cache name no cache module routes: a ctx.cache() target with no route. */
const elsewhere = defineDocument({ name: "elsewhere", fields: productFields, cache: { name: "elsewhere" } });

/** A document whose field takes any JSON: payload checks past zod (circular, deep, NUL, bigint) are reached. */
const notes = defineDocument({ name: "notes", fields: z.object({ body: z.unknown() }) });

/** Everything a row may use. Built once; rows never change it. */
interface World {
  readonly h: BadInputHarness;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly runtime: Runtime;
  readonly ctx: Context;
  readonly query: DocumentQuery<typeof products>;
  readonly command: DocumentCommand<typeof products>;
  readonly l1Query: DocumentQuery<typeof gadgets>;
  /** Documents no row may change; the health check reads them. */
  readonly good: Doc<typeof products>;
  readonly goodGadget: Doc<typeof gadgets>;
  readonly notes: DocumentCommand<typeof notes>;
  readonly goodNote: Doc<typeof notes>;
  /** Documents created up front for the planted-data rows (a row must not write Postgres itself). */
  readonly spare: ReadonlyArray<Doc<typeof products>>;
  readonly kv: CachePort;
  readonly kvBySpec: CachePort;
  /** A runtime built for one lifecycle row, stopped after the table. */
  fresh(options?: { documents?: ReadonlyArray<typeof products> }): Runtime;
  /** Like `fresh`, with the private Redis routed as cache "kv". */
  freshWithRedis(): Runtime;
}

type Row = BadInputRow<World>;

/** Takes something from a started fresh runtime's context, stops that runtime, then uses what it kept. */
async function afterStop<T>(t: World, take: (ctx: Context) => T, use: (kept: T) => unknown): Promise<void> {
  const runtime = t.fresh();
  await runtime.start();
  const kept = take(runtime.context());
  await runtime.stop();
  await use(kept);
}

const MISSING_ID = "00000000-0000-4000-8000-000000000000";
const validation = (path?: ReadonlyArray<string | number>) =>
  rejects(ValidationError, "VALIDATION", (error) => {
    if (path) expect((error as ValidationError).issues[0]?.path).toEqual(path);
  });
const configuration = (path?: string) =>
  rejects(ConfigurationError, "CONFIGURATION", (error) => {
    if (path !== undefined) expect((error as ConfigurationError).path).toBe(path);
  });
const stopped = rejects(RuntimeStateError, "STOPPED");
/** A ValidationError whose first issue has this code (and, when given, this path). */
const issue = (code: string, path?: ReadonlyArray<string | number>) =>
  rejects(ValidationError, "VALIDATION", (error) => {
    expect((error as ValidationError).issues[0]?.code).toBe(code);
    if (path) expect((error as ValidationError).issues[0]?.path).toEqual(path);
  });
/** A ConfigurationError whose message names both clashing routes. */
const clash = (...names: ReadonlyArray<string>) =>
  rejects(ConfigurationError, "CONFIGURATION", (error) => {
    for (const name of names) expect(error.message).toContain(name);
  });

// ---------------------------------------------------------------------------------------------------------- specs

const specRows: Row[] = [
  ...(
    [
      ["input undefined", undefined, ""],
      ["input null", null, ""],
      ["input a string", "products", ""],
      ["input an array", [], ""],
      ["unknown key nam", { nam: "x", name: "products", fields: productFields }, "nam"],
      ["name missing", { fields: productFields }, "name"],
      ["name empty", { name: "", fields: productFields }, "name"],
      ["name upper-case", { name: "Products", fields: productFields }, "name"],
      ["name starts with a digit", { name: "1products", fields: productFields }, "name"],
      ["name with a dash", { name: "my-products", fields: productFields }, "name"],
      ["name with a space", { name: "my products", fields: productFields }, "name"],
      ["name with a NUL", { name: "pro\u0000ducts", fields: productFields }, "name"],
      ["name 64 characters", { name: "p".repeat(64), fields: productFields }, "name"],
      ["name a number", { name: 42, fields: productFields }, "name"],
      ["fields missing", { name: "products" }, "fields"],
      ["fields a plain object", { name: "products", fields: { name: z.string() } }, "fields"],
      ["fields a zod string", { name: "products", fields: z.string() }, "fields"],
      ["fields a zod array", { name: "products", fields: z.array(z.string()) }, "fields"],
      ["fields declare id", { name: "products", fields: z.object({ id: z.string() }) }, "fields.id"],
      ["fields declare rev", { name: "products", fields: z.object({ rev: z.number() }) }, "fields.rev"],
      ["fields declare createdAt", { name: "products", fields: z.object({ createdAt: z.date() }) }, "fields.createdAt"],
      ["fields declare updatedAt", { name: "products", fields: z.object({ updatedAt: z.date() }) }, "fields.updatedAt"],
      ["cache null", { name: "products", fields: productFields, cache: null }, "cache"],
      ["cache a string", { name: "products", fields: productFields, cache: "5m" }, "cache"],
      ["cache unknown key tll", { name: "products", fields: productFields, cache: { tll: "5m" } }, "cache.tll"],
      ["ttl 0", { name: "products", fields: productFields, cache: { ttl: 0 } }, "cache.ttl"],
      ["ttl negative", { name: "products", fields: productFields, cache: { ttl: -1 } }, "cache.ttl"],
      ["ttl NaN", { name: "products", fields: productFields, cache: { ttl: Number.NaN } }, "cache.ttl"],
      [
        "ttl Infinity",
        { name: "products", fields: productFields, cache: { ttl: Number.POSITIVE_INFINITY } },
        "cache.ttl",
      ],
      ["ttl unitless string", { name: "products", fields: productFields, cache: { ttl: "5" } }, "cache.ttl"],
      ["ttl unknown unit", { name: "products", fields: productFields, cache: { ttl: "5y" } }, "cache.ttl"],
      ["ttl over 365d", { name: "products", fields: productFields, cache: { ttl: "366d" } }, "cache.ttl"],
      ["ttl a boolean", { name: "products", fields: productFields, cache: { ttl: true } }, "cache.ttl"],
      ["cache name empty", { name: "products", fields: productFields, cache: { name: "" } }, "cache.name"],
      ["cache name with a space", { name: "products", fields: productFields, cache: { name: "a b" } }, "cache.name"],
      [
        "cache name 129 characters",
        { name: "products", fields: productFields, cache: { name: "c".repeat(129) } },
        "cache.name",
      ],
      ["l1 without ttl", { name: "products", fields: productFields, cache: { l1: {} } }, "cache.l1.ttl"],
      [
        "l1.ttl not below ttl",
        { name: "products", fields: productFields, cache: { ttl: "1m", l1: { ttl: "1m" } } },
        "cache.l1.ttl",
      ],
      [
        "l1.capacity 0",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", capacity: 0 } } },
        "cache.l1.capacity",
      ],
      [
        "l1.capacity fractional",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", capacity: 1.5 } } },
        "cache.l1.capacity",
      ],
      [
        "l1.capacity a string",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", capacity: "10" } } },
        "cache.l1.capacity",
      ],
      [
        "l1.policy unknown",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", policy: "fifo" } } },
        "cache.l1.policy",
      ],
      [
        "tinylfu capacity 1",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", policy: "tinylfu", capacity: 1 } } },
        "cache.l1.capacity",
      ],
      [
        "l1 unknown key",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", size: 3 } } },
        "cache.l1.size",
      ],
      [
        "earlyRefresh.beta 0",
        { name: "products", fields: productFields, cache: { earlyRefresh: { beta: 0 } } },
        "cache.earlyRefresh.beta",
      ],
      [
        "earlyRefresh.beta NaN",
        { name: "products", fields: productFields, cache: { earlyRefresh: { beta: Number.NaN } } },
        "cache.earlyRefresh.beta",
      ],
      [
        "earlyRefresh.background a string",
        { name: "products", fields: productFields, cache: { earlyRefresh: { background: "yes" } } },
        "cache.earlyRefresh.background",
      ],
      [
        "ageTtl.alpha negative",
        { name: "products", fields: productFields, cache: { ageTtl: { alpha: -1 } } },
        "cache.ageTtl.alpha",
      ],
      [
        "ageTtl min above max",
        { name: "products", fields: productFields, cache: { ageTtl: { min: "1h", max: "1m" } } },
        undefined,
      ],
      [
        "slidingTtl not below ttl",
        { name: "products", fields: productFields, cache: { ttl: "1m", slidingTtl: "2m" } },
        "cache.slidingTtl",
      ],
      ["grace 0", { name: "products", fields: productFields, cache: { grace: 0 } }, "cache.grace"],
      [
        "l1.capacity 1e9",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", capacity: 1e9 } } },
        "cache.l1.capacity",
      ],
      [
        "l1.capacity 2^32",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", capacity: 2 ** 32 } } },
        "cache.l1.capacity",
      ],
      [
        "tinylfu l1.capacity 1e9",
        { name: "products", fields: productFields, cache: { l1: { ttl: "1s", policy: "tinylfu", capacity: 1e9 } } },
        "cache.l1.capacity",
      ],
      ["fields a zod 3 object", { name: "products", fields: z3.object({ name: z3.string() }) }, "fields"],
      ["fields refined at the top", { name: "products", fields: productFields.refine(() => true) }, "fields"],
      ["fields super-refined at the top", { name: "products", fields: productFields.superRefine(() => {}) }, "fields"],
      ["fields transformed at the top", { name: "products", fields: productFields.transform((v) => v) }, "fields"],
    ] as const
  ).map(
    ([what, input, path]): Row => ({
      name: `defineDocument: ${what}`,
      call: () => defineDocument(input as never),
      expect: configuration(path),
    }),
  ),
  ...(
    [
      ["lru capacity 1e9", { capacity: 1e9 }],
      ["lru capacity 2^32", { capacity: 2 ** 32 }],
      ["tinylfu capacity 1e9", { capacity: 1e9, policy: "tinylfu" }],
      ["tinylfu capacity 2^32", { capacity: 2 ** 32, policy: "tinylfu" }],
    ] as const
  ).map(
    ([what, options]): Row => ({
      name: `createL1Store: ${what}`,
      call: () => createL1Store(options as never),
      expect: configuration("capacity"),
    }),
  ),
];

// --------------------------------------------------------------------------------------------- module options

const documents = { products: { table: "products" } };
const caches = { products: { namespace: "app:products" } };
const PG = "postgres://h/db";
const RD = "redis://127.0.0.1:1";

const moduleRows: Row[] = [
  ...(
    [
      ["undefined", undefined],
      ["no url, pool or pglite", { documents }],
      ["url and pglite", { url: PG, pglite: true, documents }],
      ["mysql url", { url: "mysql://h/db", documents }],
      ["url a number", { url: 5432, documents }],
      ["documents empty", { url: PG, documents: {} }],
      ["documents missing", { url: PG }],
      ["document name upper-case", { url: PG, documents: { Products: {} } }],
      ["route unknown key tabel", { url: PG, documents: { products: { tabel: "x" } } }],
      ["table empty", { url: PG, documents: { products: { table: "" } } }],
      ["table 70 characters", { url: PG, documents: { products: { table: "x".repeat(70) } } }],
      ["schema 70 characters", { url: PG, documents: { products: { schema: "s".repeat(70) } } }],
      ["migrate a string", { url: PG, documents, migrate: "yes" }],
      ["unknown key migrat", { url: PG, documents, migrat: true }],
      ["queryTimeoutMs 0", { url: PG, documents, queryTimeoutMs: 0 }],
      ["queryTimeoutMs a string", { url: PG, documents, queryTimeoutMs: "5s" }],
      ["queryTimeoutMs fractional", { url: PG, documents, queryTimeoutMs: 1.5 }],
      ["onQuery not a function", { url: PG, documents, onQuery: "log" }],
      ["pool not a pool", { pool: {}, documents }],
      ["queryTimeoutMs 2^31", { url: PG, documents, queryTimeoutMs: 2 ** 31 }],
      ["queryTimeoutMs 1e12", { url: PG, documents, queryTimeoutMs: 1e12 }],
    ] as const
  ).map(
    ([what, options]): Row => ({
      name: `postgresModule: ${what}`,
      call: () => postgresModule(options as never),
      expect: configuration(),
    }),
  ),
  ...(
    [
      ["undefined", undefined],
      ["no url or client", { caches }],
      ["http url", { url: "http://x", caches }],
      ["caches empty", { url: RD, caches: {} }],
      ["caches missing", { url: RD }],
      ["namespace missing", { url: RD, caches: { products: {} } }],
      ["namespace with a space", { url: RD, caches: { products: { namespace: "a b" } } }],
      ["namespace with braces", { url: RD, caches: { products: { namespace: "a{b}" } } }],
      ["namespace empty", { url: RD, caches: { products: { namespace: "" } } }],
      ["namespace 201 characters", { url: RD, caches: { products: { namespace: "n".repeat(201) } } }],
      ["namespace with a newline", { url: RD, caches: { products: { namespace: "a\nb" } } }],
      ["invalidationPush a string", { url: RD, caches: { products: { namespace: "a", invalidationPush: "yes" } } }],
      ["cache unknown key push", { url: RD, caches: { products: { namespace: "a", push: true } } }],
      ["cache name with a space", { url: RD, caches: { "a b": { namespace: "a" } } }],
      ["timeoutMs 0", { url: RD, caches, timeoutMs: 0 }],
      ["timeoutMs negative", { url: RD, caches, timeoutMs: -5 }],
      ["timeoutMs a string", { url: RD, caches, timeoutMs: "250" }],
      ["client not a client", { url: RD, client: {}, caches }],
      ["invalidation.heartbeatIntervalMs 0", { url: RD, caches, invalidation: { heartbeatIntervalMs: 0 } }],
      ["invalidation unknown key", { url: RD, caches, invalidation: { heartbeat: 5 } }],
      ["timeoutMs 2^31", { url: RD, caches, timeoutMs: 2 ** 31 }],
      ["timeoutMs 1e10", { url: RD, caches, timeoutMs: 1e10 }],
      ["invalidation.heartbeatIntervalMs 2^31", { url: RD, caches, invalidation: { heartbeatIntervalMs: 2 ** 31 } }],
      ["invalidation.heartbeatTimeoutMs 2^31", { url: RD, caches, invalidation: { heartbeatTimeoutMs: 2 ** 31 } }],
      ["invalidation.reconnectBaseMs 2^31", { url: RD, caches, invalidation: { reconnectBaseMs: 2 ** 31 } }],
      ["invalidation.reconnectMaxMs 2^31", { url: RD, caches, invalidation: { reconnectMaxMs: 2 ** 31 } }],
      [
        "invalidation reconnectMaxMs below base",
        { url: RD, caches, invalidation: { reconnectBaseMs: 100, reconnectMaxMs: 10 } },
      ],
    ] as const
  ).map(
    ([what, options]): Row => ({
      name: `redisModule: ${what}`,
      call: () => redisModule(options as never),
      expect: configuration(),
    }),
  ),
  ...(
    [
      ["undefined", undefined],
      ["caches missing", {}],
      ["caches empty", { caches: {} }],
      ["namespace with a space", { caches: { products: { namespace: "a b" } } }],
      ["cache unknown key", { caches: { products: { namespace: "a", tll: 5 } } }],
      ["unknown key maxEntrys", { caches, maxEntrys: 5 }],
      ["maxEntries 0", { caches, maxEntries: 0 }],
      ["maxEntries negative", { caches, maxEntries: -1 }],
      ["maxEntries fractional", { caches, maxEntries: 1.5 }],
      ["maxEntries a string", { caches, maxEntries: "10" }],
    ] as const
  ).map(
    ([what, options]): Row => ({
      name: `memoryCacheModule: ${what}`,
      call: () => memoryCacheModule(options as never),
      expect: configuration(),
    }),
  ),
];

// --------------------------------------------------------------------------------------------- runtime options

const pgModule = () => postgresModule({ url: PG, documents });

/** Routes that would mix data: refused when the runtime is built, naming both routes. */
const routeClashRows: Row[] = [
  {
    name: "createRuntime: two documents on one table of one module",
    call: () =>
      createRuntime({
        modules: [postgresModule({ url: PG, documents: { alpha: { table: "shared" }, beta: { table: "shared" } } })],
      }),
    expect: clash("alpha", "beta"),
  },
  {
    name: "createRuntime: two documents on one table across two modules of one database",
    call: () =>
      createRuntime({
        modules: [
          postgresModule({ url: PG, documents: { alpha: { table: "shared" } } }),
          postgresModule({ url: PG, documents: { beta: { table: "shared" } } }),
        ],
      }),
    expect: clash("alpha", "beta"),
  },
  {
    name: "createRuntime: two documents on one schema-qualified table",
    call: () =>
      createRuntime({
        modules: [
          postgresModule({
            url: PG,
            documents: { alpha: { table: "t", schema: "app" }, beta: { table: "t", schema: "app" } },
          }),
        ],
      }),
    expect: clash("alpha", "beta"),
  },
  {
    name: "createRuntime: two caches on one namespace of one Redis module",
    call: () =>
      createRuntime({
        modules: [pgModule(), redisModule({ url: RD, caches: { one: { namespace: "n" }, two: { namespace: "n" } } })],
      }),
    expect: clash("one", "two"),
  },
  {
    name: "createRuntime: two caches on one namespace across two Redis modules of one server",
    call: () =>
      createRuntime({
        modules: [
          pgModule(),
          redisModule({ url: RD, caches: { one: { namespace: "n" } } }),
          redisModule({ url: RD, caches: { two: { namespace: "n" } } }),
        ],
      }),
    expect: clash("one", "two"),
  },
  {
    name: "createRuntime: two caches on overlapping namespaces",
    call: () =>
      createRuntime({
        modules: [
          pgModule(),
          redisModule({ url: RD, caches: { one: { namespace: "n" }, two: { namespace: "n:kv" } } }),
        ],
      }),
    expect: clash("one", "two"),
  },
  {
    name: "createRuntime: two caches on one namespace of one memory module",
    call: () =>
      createRuntime({
        modules: [pgModule(), memoryCacheModule({ caches: { one: { namespace: "n" }, two: { namespace: "n" } } })],
      }),
    expect: clash("one", "two"),
  },
];
const runtimeRows: Row[] = (
  [
    ["undefined", () => undefined, "createRuntime"],
    ["null", () => null, "createRuntime"],
    ["modules missing", () => ({}), "modules"],
    ["modules a string", () => ({ modules: "postgres" }), "modules"],
    ["modules empty", () => ({ modules: [] }), "modules"],
    ["a module that is not one", () => ({ modules: [pgModule(), {}] }), "modules[1]"],
    ["a null module", () => ({ modules: [null] }), "modules[0]"],
    // A runtime of cache modules only is fine (the cache API); listing documents for it is not.
    [
      "documents without a postgresModule",
      () => ({ modules: [memoryCacheModule({ caches })], documents: [products] }),
      "documents",
    ],
    // Clashes name both routes; which path is reported first is left open.
    ["a document routed twice", () => ({ modules: [pgModule(), pgModule()] }), undefined],
    [
      "a cache routed twice",
      () => ({ modules: [pgModule(), memoryCacheModule({ caches }), redisModule({ url: RD, caches })] }),
      undefined,
    ],
    ["refreshConcurrency 0", () => ({ modules: [pgModule()], refreshConcurrency: 0 }), "refreshConcurrency"],
    ["refreshConcurrency negative", () => ({ modules: [pgModule()], refreshConcurrency: -1 }), "refreshConcurrency"],
    ["refreshConcurrency fractional", () => ({ modules: [pgModule()], refreshConcurrency: 2.5 }), "refreshConcurrency"],
    ["refreshConcurrency a string", () => ({ modules: [pgModule()], refreshConcurrency: "64" }), "refreshConcurrency"],
    ["refreshConcurrency NaN", () => ({ modules: [pgModule()], refreshConcurrency: Number.NaN }), "refreshConcurrency"],
    ["documents a string", () => ({ modules: [pgModule()], documents: "products" }), "documents"],
    ["documents holding a plain object", () => ({ modules: [pgModule()], documents: [{}] }), "documents[0]"],
    ["documents holding null", () => ({ modules: [pgModule()], documents: [products, null] }), "documents[1]"],
    ["unknown key loger", () => ({ modules: [pgModule()], loger: silentLogger }), "loger"],
    ["unknown key refreshconcurrency", () => ({ modules: [pgModule()], refreshconcurrency: 4 }), "refreshconcurrency"],
    ["logger an empty object", () => ({ modules: [pgModule()], logger: {} }), "logger"],
    ["logger lacking warn and error", () => ({ modules: [pgModule()], logger: { debug() {}, info() {} } }), "logger"],
    ["logger a function", () => ({ modules: [pgModule()], logger: () => {} }), "logger"],
    ["logger null", () => ({ modules: [pgModule()], logger: null }), "logger"],
    ["clock an empty object", () => ({ modules: [pgModule()], clock: {} }), "clock"],
    ["clock lacking random", () => ({ modules: [pgModule()], clock: { now: () => 0 } }), "clock"],
    ["clock a number", () => ({ modules: [pgModule()], clock: 0 }), "clock"],
  ] as const
).map(
  ([what, options, path]): Row => ({
    name: `createRuntime: ${what}`,
    call: () => createRuntime(options() as never),
    expect: configuration(path),
  }),
);

// ---------------------------------------------------------------------------------------------------------- ids

const UUID = "0f8fad5b-d9cb-469f-a165-70867728950e";
const badIds: ReadonlyArray<readonly [string, unknown]> = [
  ["empty string", ""],
  ["a word", "not-a-uuid"],
  ["digits", "12345"],
  ["a UUID missing a digit", UUID.slice(0, -1)],
  ["a UUID with an extra digit", `${UUID}0`],
  ["a UUID in braces", `{${UUID}}`],
  ["a UUID without dashes", UUID.replaceAll("-", "")],
  ["a UUID with a leading space", ` ${UUID}`],
  ["a UUID with a trailing newline", `${UUID}\n`],
  ["a UUID with a non-hex letter", `g${UUID.slice(1)}`],
  ["a urn:uuid", `urn:uuid:${UUID}`],
  ["a UUID with a NUL", `${UUID}\u0000`],
  ["a lone surrogate", "\ud800"],
  ["SQL", "' OR 1=1 --"],
  ["a Redis hash tag", "}{x"],
  ["a 100 kB string", "a".repeat(100_000)],
  ["null", null],
  ["a number", 42],
  ["a boolean", true],
  ["an object", { id: UUID }],
  ["an array", [UUID]],
  ["a String object", new String(UUID)],
  ["a bigint", 1n],
  ["a symbol", Symbol(UUID)],
  ["a function", () => UUID],
];

const idRows: Row[] = badIds.flatMap(([what, id]): Row[] => {
  const bad = id as string;
  const rows: Row[] = [
    { name: `get: id is ${what}`, call: (t) => t.query.get(bad), expect: validation(["id"]) },
    { name: `find: id is ${what}`, call: (t) => t.query.find(bad), expect: validation(["id"]) },
    { name: `get (L1 document): id is ${what}`, call: (t) => t.l1Query.get(bad), expect: validation(["id"]) },
    { name: `getMany: id is ${what}`, call: (t) => t.query.getMany([bad]), expect: validation([0]) },
    {
      name: `findMany: second id is ${what}`,
      call: (t) => t.query.findMany([t.good.id, bad]),
      expect: validation([1]),
    },
    {
      name: `update: id is ${what}`,
      call: (t) => t.command.update(bad, 1, { price: 1 }),
      expect: validation(["id"]),
    },
    { name: `delete: id is ${what}`, call: (t) => t.command.delete(bad), expect: validation(["id"]) },
  ];
  // An absent id is a valid create (one is generated); every other bad id must be refused.
  if (id !== undefined) {
    rows.push({
      name: `create: id is ${what}`,
      call: (t) => t.command.create({ id: bad, name: "x", price: 1 }),
      expect: validation(["id"]),
    });
  }
  return rows;
});

const idResultRows: Row[] = [
  {
    name: "get: upper-case id is the same document",
    call: (t) => t.query.get(t.good.id.toUpperCase()),
    expect: resolves((value, t) => expect(value).toEqual(t.good)),
  },
  {
    name: "find: an id that does not exist is undefined",
    call: (t) => t.query.find(MISSING_ID),
    expect: resolves((value) => expect(value).toBeUndefined()),
  },
  {
    name: "get: an id that does not exist",
    call: (t) => t.query.get(MISSING_ID),
    expect: rejects(NotFoundError, "NOT_FOUND", (e) => expect((e as NotFoundError).missing).toEqual([MISSING_ID])),
  },
  {
    name: "getMany: missing ids listed once each, in order",
    call: (t) => t.query.getMany([MISSING_ID, t.good.id, UUID, MISSING_ID]),
    expect: rejects(NotFoundError, "NOT_FOUND", (e) =>
      expect((e as NotFoundError).missing).toEqual([MISSING_ID, UUID]),
    ),
  },
  {
    name: "findMany: duplicates and a missing id",
    call: (t) => t.query.findMany([t.good.id, MISSING_ID, t.good.id]),
    expect: resolves((value, t) => expect(value).toEqual([t.good, undefined, t.good])),
  },
  {
    name: "findMany: no ids",
    call: (t) => t.query.findMany([]),
    expect: resolves((value) => expect(value).toEqual([])),
  },
];

// ------------------------------------------------------------------------------------------------ create payloads

const badCreates: ReadonlyArray<readonly [string, unknown]> = [
  ["undefined", undefined],
  ["null", null],
  ["a number", 42],
  ["a string", "widget"],
  ["an array", [{ name: "x", price: 1 }]],
  ["a boolean", true],
  ["a function", () => ({ name: "x", price: 1 })],
  ["empty", {}],
  ["a Date", new Date(0)],
  ["a null-prototype object without fields", Object.create(null)],
  ["price missing", { name: "x" }],
  ["name missing", { price: 1 }],
  ["name a number", { name: 1, price: 1 }],
  ["name null", { name: null, price: 1 }],
  ["name an object", { name: { first: "x" }, price: 1 }],
  ["price a string", { name: "x", price: "1" }],
  ["price fractional", { name: "x", price: 1.5 }],
  ["price NaN", { name: "x", price: Number.NaN }],
  ["price Infinity", { name: "x", price: Number.POSITIVE_INFINITY }],
  ["price beyond 2^53", { name: "x", price: 2 ** 60 }],
  ["price null", { name: "x", price: null }],
  ["price a bigint", { name: "x", price: 1n }],
  ["tags a string", { name: "x", price: 1, tags: "a,b" }],
  ["tags holding a number", { name: "x", price: 1, tags: ["a", 2] }],
  ["tags an object", { name: "x", price: 1, tags: { 0: "a" } }],
  ["tags null", { name: "x", price: 1, tags: null }],
];

const createRows: Row[] = [
  ...badCreates.map(
    ([what, input]): Row => ({
      name: `create: input is ${what}`,
      call: (t) => t.command.create(input as never),
      expect: validation(),
    }),
  ),
  {
    name: "create: an id already taken",
    call: (t) => t.command.create({ id: t.good.id, name: "x", price: 1 }),
    expect: rejects(ConflictError, "CONFLICT"),
  },
  {
    name: "create: an id already taken, in upper case",
    call: (t) => t.command.create({ id: t.good.id.toUpperCase(), name: "x", price: 1 }),
    expect: rejects(ConflictError, "CONFLICT"),
  },
];

// ------------------------------------------------------------------------------------------------- update patches

const badPatches: ReadonlyArray<readonly [string, unknown]> = [
  ["undefined", undefined],
  ["null", null],
  ["a number", 42],
  ["a string", "price=1"],
  ["an array", [{ price: 1 }]],
  ["a boolean", false],
  ["name a number", { name: 5 }],
  ["name null", { name: null }],
  ["price a string", { price: "12" }],
  ["price fractional", { price: 12.5 }],
  ["price NaN", { price: Number.NaN }],
  ["price -Infinity", { price: Number.NEGATIVE_INFINITY }],
  ["price null", { price: null }],
  ["price a bigint", { price: 12n }],
  ["tags a string", { tags: "a" }],
  ["tags holding null", { tags: [null] }],
  ["one good and one bad field", { name: "ok", price: "12" }],
];

const badRevs: ReadonlyArray<readonly [string, unknown]> = [
  ["0", 0],
  ["negative", -1],
  ["fractional", 1.5],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["beyond 2^53", 2 ** 53],
  ["a string", "1"],
  ["null", null],
  ["an object", { rev: 1 }],
  ["a bigint", 1n],
  ["a boolean", true],
];

const updateRows: Row[] = [
  ...badPatches.map(
    ([what, patch]): Row => ({
      name: `update: patch is ${what}`,
      call: (t) => t.command.update(t.good.id, t.good.rev, patch as never),
      expect: validation(),
    }),
  ),
  ...badRevs.map(
    ([what, rev]): Row => ({
      name: `update: rev is ${what}`,
      call: (t) => t.command.update(t.good.id, rev as number, { price: 1 }),
      expect: validation(["rev"]),
    }),
  ),
  {
    name: "update: rev undefined",
    call: (t) => t.command.update(t.good.id, undefined as never, { price: 1 }),
    expect: validation(["rev"]),
  },
  {
    name: "update: a rev ahead of the current one",
    call: (t) => t.command.update(t.good.id, t.good.rev + 1, { price: 1 }),
    expect: rejects(ConflictError, "CONFLICT", (e) => expect((e as ConflictError).currentRev).toBe(1)),
  },
  {
    name: "update: a far-future rev",
    call: (t) => t.command.update(t.good.id, 2 ** 40, { price: 1 }),
    expect: rejects(ConflictError, "CONFLICT", (e) => expect((e as ConflictError).currentRev).toBe(1)),
  },
  {
    name: "update: an id that does not exist",
    call: (t) => t.command.update(MISSING_ID, 1, { price: 1 }),
    expect: rejects(NotFoundError, "NOT_FOUND"),
  },
];

// ---------------------------------------------------------------------------------------------------- delete revs

const deleteRows: Row[] = [
  ...badRevs
    .filter(([, rev]) => rev !== null)
    .map(
      ([what, rev]): Row => ({
        name: `delete: rev is ${what}`,
        call: (t) => t.command.delete(t.good.id, rev as number),
        expect: validation(["rev"]),
      }),
    ),
  {
    name: "delete: rev is null",
    call: (t) => t.command.delete(t.good.id, null as never),
    expect: validation(["rev"]),
  },
  {
    name: "delete: a rev ahead of the current one",
    call: (t) => t.command.delete(t.good.id, t.good.rev + 1),
    expect: rejects(ConflictError, "CONFLICT", (e) => expect((e as ConflictError).currentRev).toBe(1)),
  },
  {
    name: "delete: an id that does not exist",
    call: (t) => t.command.delete(MISSING_ID),
    expect: rejects(NotFoundError, "NOT_FOUND"),
  },
  {
    name: "delete: an id that does not exist, with a rev",
    call: (t) => t.command.delete(MISSING_ID, 1),
    expect: rejects(NotFoundError, "NOT_FOUND"),
  },
];

// ---------------------------------------------------------------------------------------------- key/value calls

const circular: Record<string, unknown> = {};
circular.self = circular;
const badValues: ReadonlyArray<readonly [string, unknown]> = [
  ["undefined", undefined],
  ["a function", () => 1],
  ["a symbol", Symbol("v")],
  ["a bigint", 1n],
  ["an object holding a bigint", { n: 1n }],
  ["a circular object", circular],
  [
    "an object whose toJSON throws",
    {
      toJSON: () => {
        throw new Error("no");
      },
    },
  ],
];

const badTtls: ReadonlyArray<readonly [string, unknown]> = [
  ["0", 0],
  ["negative", -5],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["unitless string", "5"],
  ["unknown unit", "5w"],
  ["over 365d", "400d"],
  ["gibberish", "soon"],
  ["a negative string", "-5s"],
  ["a boolean", true],
  ["an object", { ms: 5 }],
];

const kvRows: Row[] = [
  ...badValues.flatMap(([what, value]): Row[] => [
    { name: `kv set: value is ${what}`, call: (t) => t.kv.set("k", value), expect: validation() },
    {
      name: `kv setMany: second value is ${what} (whole batch refused)`,
      call: (t) =>
        t.kv.setMany([
          ["a", 1],
          ["b", value],
        ]),
      expect: validation(),
    },
  ]),
  { name: "kv set (by spec): value is undefined", call: (t) => t.kvBySpec.set("k", undefined), expect: validation() },
  ...badTtls.flatMap(([what, ttl]): Row[] => [
    {
      name: `kv set: ttl is ${what}`,
      call: (t) => t.kv.set("k", 1, { ttl: ttl as never }),
      expect: configuration("ttl"),
    },
    {
      name: `kv setMany: ttl is ${what}`,
      call: (t) => t.kv.setMany([["k", 1]], { ttl: ttl as never }),
      expect: configuration("ttl"),
    },
  ]),
  ...(
    [
      ["null", null],
      ["a duration string", "5m"],
      ["a number", 60_000],
      ["an array", [{ ttl: "5m" }]],
      ["a boolean", true],
      ["a Map", new Map([["ttl", "5m"]])],
      ["an unknown key tll", { tll: "5m" }],
      ["an unknown key beside ttl", { ttl: "5m", nx: true }],
    ] as const
  ).flatMap(([what, options]): Row[] => [
    {
      name: `kv set: options is ${what}`,
      call: (t) => t.kv.set("k", 1, options as never),
      expect: validation(),
    },
    {
      name: `kv setMany: options is ${what}`,
      call: (t) => t.kv.setMany([["k", 1]], options as never),
      expect: validation(),
    },
  ]),
  {
    name: "kv set: options with ttl undefined uses the default ttl",
    call: async (t) => {
      await t.kv.set("opt-undefined", 1, { ttl: undefined });
      return t.h.redis.pttl(`${kvPrefix(`${NAMESPACE}:kv`)}opt-undefined`);
    },
    expect: resolves((pttl) => {
      expect(pttl).toBeGreaterThan(4 * 60_000);
      expect(pttl).toBeLessThanOrEqual(5 * 60_000);
    }),
    redisKeysWritten: () => [`${kvPrefix(`${NAMESPACE}:kv`)}opt-undefined`],
  },
  ...(
    [
      ["an unrouted name", "nope"],
      ["an empty name", ""],
      ["__proto__", "__proto__"],
      ["constructor", "constructor"],
      ["a number", 42],
      ["null", null],
      ["undefined", undefined],
      ["an empty object", {}],
    ] as const
  ).map(
    ([what, target]): Row => ({
      name: `ctx.cache: target is ${what}`,
      call: (t) => t.ctx.cache(target as never),
      expect: configuration(),
    }),
  ),
  {
    name: "ctx.cache: the cache spec of a document no cache module routes",
    call: (t) => t.ctx.cache(elsewhere.cache as never),
    expect: configuration("caches.elsewhere"),
  },
  ...(
    [
      ["undefined", undefined],
      ["null", null],
      ["empty", ""],
      ["a number", 42],
      ["an object", { key: "k" }],
      ["a NUL", "a\u0000b"],
      ["a newline", "a\nb"],
      ["a tab", "\t"],
      ["DEL", "a\u007f"],
      ["a lone surrogate", "a\ud800"],
      ["1025 characters", "k".repeat(1025)],
    ] as const
  ).flatMap(([what, key]): Row[] => [
    { name: `kv get: key is ${what}`, call: (t) => t.kv.get(key as never), expect: issue("invalid_key", ["key"]) },
    { name: `kv set: key is ${what}`, call: (t) => t.kv.set(key as never, 1), expect: issue("invalid_key", ["key"]) },
    {
      name: `kv exists: key is ${what}`,
      call: (t) => t.kv.exists(key as never),
      expect: issue("invalid_key", ["key"]),
    },
    {
      name: `kv delete: key is ${what}`,
      call: (t) => t.kv.delete(key as never),
      expect: issue("invalid_key", ["key"]),
    },
    {
      name: `kv getMany: second key is ${what}`,
      call: (t) => t.kv.getMany(["ok", key as never]),
      expect: issue("invalid_key", ["keys", 1]),
    },
    {
      name: `kv setMany: second key is ${what} (whole batch refused)`,
      call: (t) =>
        t.kv.setMany([
          ["ok", 1],
          [key as never, 2],
        ]),
      expect: issue("invalid_key", ["keys", 1]),
    },
    {
      name: `kv deleteMany: second key is ${what}`,
      call: (t) => t.kv.deleteMany(["ok", key as never]),
      expect: issue("invalid_key", ["keys", 1]),
    },
  ]),
  {
    name: "kv set: a value one byte over maxValueBytes once encoded",
    // 1 MiB of characters encodes to more than 1 MiB (a tag and JSON quotes).
    call: (t) => t.kv.set("big", "x".repeat(1024 * 1024)),
    expect: issue("too_large"),
  },
  {
    name: "kv set (by spec): a 2 MiB byte array",
    call: (t) => t.kvBySpec.set("big", new Uint8Array(2 * 1024 * 1024)),
    expect: issue("too_large"),
  },
  {
    name: "kv setMany: one value over maxValueBytes (whole batch refused)",
    call: (t) =>
      t.kv.setMany([
        ["small", 1],
        ["big", "x".repeat(1024 * 1024)],
      ]),
    expect: issue("too_large", ["entries", 1]),
  },
  {
    name: "kv getMany: keys not an array",
    call: (t) => t.kv.getMany("k" as never),
    expect: issue("invalid_type", ["keys"]),
  },
  {
    name: "kv setMany: entries not pairs",
    call: (t) => t.kv.setMany([["k"]] as never),
    expect: issue("invalid_type", ["entries", 0]),
  },
  {
    name: "kv get: a key never set is undefined",
    call: (t) => t.kv.get("never-set"),
    expect: resolves((value) => expect(value).toBeUndefined()),
  },
  {
    name: "kv delete: a key never set",
    call: (t) => t.kv.delete("never-set"),
    expect: resolves((value) => expect(value).toBe(false)),
  },
];

// -------------------------------------------------------------------------------------------- planted Redis data

/** Values planted at a document's entry key; each must read as a miss, be served from Postgres and be replaced. */
const plantedEntries: ReadonlyArray<readonly [string, (fp: string, id: string) => string | Buffer]> = [
  ["an empty string", () => ""],
  ["a word", () => "garbage"],
  ["binary bytes", () => Buffer.from([0xff, 0x00, 0xfe, 0x7c, 0x80])],
  ["JSON of the document", (_fp, id) => JSON.stringify({ id, rev: 1, name: "forged" })],
  ["the tag alone", () => "s1|"],
  ["a header cut after the fingerprint", (fp) => `s1|${fp}|`],
  ["a header cut after the rev", (fp) => `s1|${fp}|0|1|`],
  ["a full header without a body", (fp) => `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|`],
  ["an old envelope tag", (fp, id) => `s0|${fp}|0|1|0|0|${Date.now() + 600_000}|{"id":"${id}"}`],
  ["a future envelope tag", (fp, id) => `s9|${fp}|0|1|0|0|${Date.now() + 600_000}|{"id":"${id}"}`],
  [
    "another fingerprint with a huge version",
    (_fp, id) => `s1|000000000000|999999|999999|0|0|${Date.now() + 600_000}|{"id":"${id}","rev":999999}`,
  ],
  ["a body that is not JSON", (fp) => `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|{not json`],
  ["a body that is JSON null", (fp) => `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|null`],
  ["a body that is an array", (fp) => `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|[1,2]`],
  [
    "a body of another id",
    (fp) =>
      `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|{"id":"${MISSING_ID}","rev":1,"createdAt":0,"updatedAt":0,"name":"x","price":1}`,
  ],
  [
    "a body whose rev disagrees with the header",
    (fp, id) =>
      `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|{"id":"${id}","rev":7,"createdAt":0,"updatedAt":0,"name":"x","price":1}`,
  ],
  [
    "a body with string timestamps",
    (fp, id) =>
      `s1|${fp}|0|1|0|0|${Date.now() + 600_000}|{"id":"${id}","rev":1,"createdAt":"x","updatedAt":"y","name":"x","price":1}`,
  ],
  [
    "a stale entry of an older incarnation",
    (fp, id) => `s1|${fp}|0|1|0|0|0|{"id":"${id}","rev":1,"createdAt":0,"updatedAt":0,"name":"stale","price":1}`,
  ],
  ["a header with letters for numbers", (fp) => `s1|${fp}|a|b|c|d|e|{}`],
  ["a header with negative numbers", (fp) => `s1|${fp}|-1|-1|0|0|0|{}`],
  ["a tombstone of an older incarnation", (fp) => `s1|${fp}|0|T|0|0|0|`],
];

/** Values planted at a document's version floor that the fence must ignore (garbage, or an older version). */
const plantedFloors: ReadonlyArray<readonly [string, string]> = [
  ["garbage", "garbage"],
  ["empty", ""],
  ["letters in place of numbers", "a|b"],
  ["no separator", "12"],
  ["an older incarnation", "0|5"],
  ["an older incarnation's tombstone", "0|T"],
];

function plantedRow(index: number, what: string, plant: (t: World, doc: Doc<typeof products>) => Promise<void>): Row {
  const keys = (t: World) => {
    const doc = t.spare[index] as Doc<typeof products>;
    return [entryKey(NAMESPACE, products, doc.id), versionFloorKey(NAMESPACE, products, doc.id)];
  };
  return {
    name: `planted: ${what}`,
    call: async (t) => {
      const doc = t.spare[index] as Doc<typeof products>;
      await plant(t, doc);
      return t.query.get(doc.id);
    },
    expect: resolves(async (value, t) => {
      const doc = t.spare[index] as Doc<typeof products>;
      expect(value).toEqual(doc);
      // The garbage was replaced by the real entry: the next read is an L2 hit of the committed version.
      await t.runtime.settled(); // the fill goes right behind the read
      const raw = await t.h.redis.get(entryKey(NAMESPACE, products, doc.id));
      const decoded = decodeEntry(products.fingerprint, raw ?? "");
      expect(decoded).toMatchObject({ rev: doc.rev });
      expect(await t.query.get(doc.id)).toEqual(doc);
    }),
    redisKeysWritten: keys,
  };
}

const plantedRows: Row[] = [
  ...plantedEntries.map(([what, value], i) =>
    plantedRow(i, `entry is ${what}`, async (t, doc) => {
      await t.h.redis.set(entryKey(NAMESPACE, products, doc.id), value(products.fingerprint, doc.id), "PX", 600_000);
    }),
  ),
  ...plantedFloors.map(([what, value], i) =>
    plantedRow(plantedEntries.length + i, `version floor is ${what}`, async (t, doc) => {
      const floor = versionFloorKey(NAMESPACE, products, doc.id);
      await t.h.redis.set(floor, value, "PX", 600_000);
    }),
  ),
];

/**
 * Keys of the wrong Redis type, or planted without a TTL (which the library never writes), under a document's entry
 * or floor key: the fence treats them as foreign (deletes them) and the read as a miss, so they cost one miss, never
 * a stuck id.
 */
const FAR = () => Date.now() + 365 * 86_400_000;
const plantedForeign: ReadonlyArray<
  readonly [string, (t: World, entry: string, floor: string, id: string) => Promise<unknown>]
> = [
  ["entry is a hash", (t, entry) => t.h.redis.multi().hset(entry, "rev", "1").pexpire(entry, 600_000).exec()],
  ["entry is a hash without a TTL", (t, entry) => t.h.redis.hset(entry, "a", "b")],
  ["entry is a list", (t, entry) => t.h.redis.rpush(entry, "s1|x")],
  ["entry is a set", (t, entry) => t.h.redis.sadd(entry, "x")],
  ["entry is a sorted set", (t, entry) => t.h.redis.zadd(entry, 1, "x")],
  ["floor is a list", (t, _entry, floor) => t.h.redis.rpush(floor, "999999|999999")],
  ["floor is a hash", (t, _entry, floor) => t.h.redis.hset(floor, "rev", "999999")],
  ["floor is a set", (t, _entry, floor) => t.h.redis.sadd(floor, "999999|T")],
  [
    "entry is a garbled header with a higher version",
    (t, entry) => t.h.redis.set(entry, `s1|${products.fingerprint}|999999|999999|0|0|never|{}`, "PX", 600_000),
  ],
  [
    "entry is a header with a higher version cut before its body",
    (t, entry) => t.h.redis.set(entry, `s1|${products.fingerprint}|999999|999999|0|0`, "PX", 600_000),
  ],
  [
    "entry is a well-formed forgery with a higher version and no TTL",
    (t, entry, _floor, id) =>
      t.h.redis.set(
        entry,
        `s1|${products.fingerprint}|999999|999999|0|0|${FAR()}|{"id":"${id}","rev":999999,"createdAt":0,"updatedAt":0,"name":"forged","price":1}`,
      ),
  ],
  ["floor is a hand-planted higher version without a TTL", (t, _entry, floor) => t.h.redis.set(floor, "999999|999999")],
  ["floor is a hand-planted tombstone without a TTL", (t, _entry, floor) => t.h.redis.set(floor, "999999|T")],
];

const plantedForeignRows: Row[] = plantedForeign.flatMap(([what, plant], i): Row[] =>
  (["get", "getMany"] as const).map((read, j) =>
    plantedRow(plantedEntries.length + plantedFloors.length + i * 2 + j, `${what} (${read})`, async (t, doc) => {
      const entry = entryKey(NAMESPACE, products, doc.id);
      const floor = versionFloorKey(NAMESPACE, products, doc.id);
      await t.h.redis.del(entry, floor); // the create left a floor: replace it by the planted key
      await plant(t, entry, floor, doc.id);
      // The getMany path reads with MGET (nil for a key of another type); fills go through the fence either way.
      if (read === "getMany") expect(await t.query.getMany([doc.id])).toEqual([doc]);
    }),
  ),
);

const SPARE_DOCS = plantedEntries.length + plantedFloors.length + plantedForeign.length * 2;

/** A key/value key of another Redis type: a miss, never UNAVAILABLE. */
const plantedKvTypes: ReadonlyArray<readonly [string, (t: World, key: string) => Promise<unknown>]> = [
  ["a hash", (t, key) => t.h.redis.hset(key, "a", "b")],
  ["a list", (t, key) => t.h.redis.rpush(key, "j1")],
  ["a set", (t, key) => t.h.redis.sadd(key, "j1")],
];
const plantedKvTypeRows: Row[] = plantedKvTypes.flatMap(([what, plant], i): Row[] => {
  const key = `planted-type-${i}`;
  const full = kvPrefix(`${NAMESPACE}:kv`) + key;
  return [
    {
      name: `planted kv: get of ${what}`,
      call: async (t) => {
        await t.h.redis.del(full);
        await plant(t, full);
        return t.kv.get(key);
      },
      expect: resolves((result) => expect(result).toBeUndefined()),
      redisKeysWritten: () => [full],
    },
    {
      name: `planted kv: getMany of ${what}`,
      call: async (t) => {
        await t.h.redis.del(full);
        await plant(t, full);
        return t.kv.getMany([key, "never-set"]);
      },
      expect: resolves((result) => expect(result).toEqual([undefined, undefined])),
      redisKeysWritten: () => [full],
    },
    {
      name: `planted kv: set over ${what} replaces it`,
      call: async (t) => {
        await t.h.redis.del(full);
        await plant(t, full);
        await t.kv.set(key, { replaced: true });
        return t.kv.get(key);
      },
      expect: resolves((result) => expect(result).toEqual({ replaced: true })),
      redisKeysWritten: () => [full],
    },
  ];
});

/** Key/value entries that are not ours: a miss, never a throw. */
const plantedKv: ReadonlyArray<readonly [string, string | Buffer]> = [
  ["untagged text", "hello"],
  ["an empty string", ""],
  ["truncated JSON", 'j{"a":'],
  ["an unknown tag", "x123"],
  ["binary bytes", Buffer.from([0x00, 0xff, 0x10])],
];

const plantedKvRows: Row[] = plantedKv.flatMap(([what, value], i): Row[] => {
  const key = `planted-${i}`;
  const full = kvPrefix(`${NAMESPACE}:kv`) + key;
  return [
    {
      name: `planted kv: get of ${what}`,
      call: async (t) => {
        await t.h.redis.set(full, value, "PX", 600_000);
        return t.kv.get(key);
      },
      expect: resolves((result) => expect(result).toBeUndefined()),
      redisKeysWritten: () => [full],
    },
    {
      name: `planted kv: getMany of ${what}`,
      call: async (t) => {
        await t.h.redis.set(full, value, "PX", 600_000);
        return t.kv.getMany([key, "never-set"]);
      },
      expect: resolves((result) => expect(result).toEqual([undefined, undefined])),
      redisKeysWritten: () => [full],
    },
  ];
});

// -------------------------------------------------------------------------------------------- lifecycle misuse

const lifecycleRows: Row[] = [
  { name: "lifecycle: context() before start", call: (t) => t.fresh().context(), expect: stopped },
  {
    name: "lifecycle: transaction() before start",
    call: (t) => t.fresh().transaction(async () => 1),
    expect: stopped,
  },
  {
    name: "lifecycle: start() twice",
    call: async (t) => {
      const runtime = t.fresh();
      await runtime.start();
      await runtime.start();
    },
    expect: stopped,
  },
  {
    name: "lifecycle: start() while starting",
    call: async (t) => {
      const runtime = t.fresh();
      const first = runtime.start();
      try {
        await runtime.start();
      } finally {
        await first;
      }
    },
    expect: stopped,
  },
  {
    name: "lifecycle: start() after stop()",
    call: async (t) => {
      const runtime = t.fresh();
      await runtime.start();
      await runtime.stop();
      await runtime.start();
    },
    expect: stopped,
  },
  {
    name: "lifecycle: start() after a stop() before start",
    call: async (t) => {
      const runtime = t.fresh();
      await runtime.stop();
      await runtime.start();
    },
    expect: stopped,
  },
  {
    name: "lifecycle: context() after stop()",
    call: async (t) => {
      const runtime = t.fresh();
      await runtime.start();
      await runtime.stop();
      runtime.context();
    },
    expect: stopped,
  },
  {
    name: "lifecycle: transaction() after stop()",
    call: async (t) => {
      const runtime = t.fresh();
      await runtime.start();
      await runtime.stop();
      await runtime.transaction(async () => 1);
    },
    expect: stopped,
  },
  {
    name: "lifecycle: a context's query() after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx,
        (ctx) => ctx.document.query(products),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: a context's command() after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx,
        (ctx) => ctx.document.command(products),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: a context's cache() after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx,
        (ctx) => ctx.cache("products"),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: a context's transaction() after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx,
        (ctx) => ctx.transaction(async () => 1),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: stop() twice ends stopped",
    call: async (t) => {
      const runtime = t.fresh();
      await runtime.start();
      await Promise.all([runtime.stop(), runtime.stop()]);
      await runtime.stop();
      return runtime.state;
    },
    expect: resolves((state) => expect(state).toBe("stopped")),
  },
  {
    name: "lifecycle: start() with a listed document that has no table route",
    call: async (t) => {
      const runtime = t.fresh({ documents: [unrouted] });
      try {
        await runtime.start();
      } finally {
        expect(runtime.state).toBe("stopped");
      }
    },
    expect: configuration(),
  },
  {
    name: "lifecycle: a query port read after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx.document.query(products),
        (query) => query.get(t.good.id),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: a command port create after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx.document.command(products),
        (command) => command.create({ name: "after stop", price: 1 }),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: a command port update after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx.document.command(products),
        (command) => command.update(t.good.id, t.good.rev, { price: 99 }),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: a command port delete after stop()",
    call: (t) =>
      afterStop(
        t,
        (ctx) => ctx.document.command(products),
        (command) => command.delete(t.good.id),
      ),
    expect: stopped,
  },
  {
    name: "lifecycle: query() of a plain object instead of a spec",
    call: (t) => t.ctx.document.query({} as never),
    expect: configuration(),
  },
  {
    name: "lifecycle: command() of a look-alike spec reusing a document name",
    call: (t) => t.ctx.document.command({ name: "products" } as never),
    expect: configuration(),
  },
  {
    name: "lifecycle: query() of a document no postgresModule routes",
    call: (t) => t.ctx.document.query(unrouted),
    expect: configuration(),
  },
  {
    name: "lifecycle: command() of a document no postgresModule routes",
    call: (t) => t.ctx.document.command(unrouted),
    expect: configuration(),
  },
  ...(
    [
      ["null", null],
      ["undefined", undefined],
      ["a string", "products"],
      ["a number", 42],
      ["a cache spec", products.cache],
      ["an array", [products]],
    ] as const
  ).flatMap(([what, spec]): Row[] => [
    {
      name: `lifecycle: query() of ${what}`,
      call: (t) => t.ctx.document.query(spec as never),
      expect: configuration("spec"),
    },
    {
      name: `lifecycle: command() of ${what}`,
      call: (t) => t.ctx.document.command(spec as never),
      expect: configuration("spec"),
    },
    {
      name: `lifecycle: a transaction's query() of ${what}`,
      call: (t) => t.ctx.transaction(async (tx) => tx.document.query(spec as never)),
      expect: configuration("spec"),
    },
    {
      name: `lifecycle: a transaction's command() of ${what}`,
      call: (t) => t.ctx.transaction(async (tx) => tx.document.command(spec as never)),
      expect: configuration("spec"),
    },
  ]),
  ...(
    [
      ["a number", 42],
      ["null", null],
      ["undefined", undefined],
      ["a string", "async () => 1"],
      ["an object", { run: async () => 1 }],
    ] as const
  ).flatMap(([what, fn]): Row[] => [
    {
      name: `lifecycle: ctx.transaction() of ${what}`,
      call: (t) => t.ctx.transaction(fn as never),
      expect: configuration("transaction"),
    },
    {
      name: `lifecycle: runtime.transaction() of ${what}`,
      call: (t) => t.runtime.transaction(fn as never),
      expect: configuration("transaction"),
    },
  ]),
  {
    name: "lifecycle: a nested transaction() of a number",
    call: (t) => t.ctx.transaction((tx) => tx.transaction(42 as never)),
    expect: configuration("transaction"),
  },
  ...(
    [
      ["get", (kv: CachePort) => kv.get("k")],
      ["getMany", (kv: CachePort) => kv.getMany(["k"])],
      ["exists", (kv: CachePort) => kv.exists("k")],
      ["set", (kv: CachePort) => kv.set("k", 1)],
      ["setMany", (kv: CachePort) => kv.setMany([["k", 1]])],
      ["delete", (kv: CachePort) => kv.delete("k")],
      ["deleteMany", (kv: CachePort) => kv.deleteMany(["k"])],
    ] as const
  ).map(
    ([what, use]): Row => ({
      name: `lifecycle: a key/value port ${what} after stop()`,
      call: async (t) => {
        const runtime = t.freshWithRedis();
        await runtime.start();
        const kv = runtime.context().cache("kv");
        await runtime.stop();
        await use(kv);
      },
      expect: stopped,
    }),
  ),
];

// ------------------------------------------------------------------------------- aborted reads and transactions

/** Reads whose signal has already fired: AbortError, and nothing read is filled (ids already cached, or absent). */
const abortedRows: Row[] = [
  ...(
    [
      ["get of a cached id", (t: World, signal: AbortSignal) => t.query.get(t.good.id, { signal })],
      ["find of a cached id", (t: World, signal: AbortSignal) => t.query.find(t.good.id, { signal })],
      ["get of an absent id", (t: World, signal: AbortSignal) => t.query.get(MISSING_ID, { signal })],
      ["find of an absent id", (t: World, signal: AbortSignal) => t.query.find(MISSING_ID, { signal })],
      ["getMany", (t: World, signal: AbortSignal) => t.query.getMany([t.good.id, MISSING_ID], { signal })],
      ["findMany", (t: World, signal: AbortSignal) => t.query.findMany([t.good.id, t.good.id], { signal })],
      ["get of an absent id (L1 document)", (t: World, signal: AbortSignal) => t.l1Query.get(MISSING_ID, { signal })],
    ] as const
  ).map(
    ([what, read]): Row => ({
      name: `aborted signal: ${what}`,
      call: (t) => read(t, AbortSignal.abort()),
      expect: rejects(AbortError, "ABORTED"),
    }),
  ),
  {
    name: "aborted signal: the reason is the error's cause",
    call: (t) => t.query.get(t.good.id, { signal: AbortSignal.abort(new Error("client went away")) }),
    expect: rejects(AbortError, "ABORTED", (error) => expect(String(error.cause)).toContain("client went away")),
  },
];

/** Bad input inside a transaction: the typed error, and the whole transaction rolled back. */
const transactionRows: Row[] = [
  {
    name: "transaction: an invalid create",
    call: (t) => t.ctx.transaction((tx) => tx.document.command(products).create({ name: 1 } as never)),
    expect: validation(["name"]),
  },
  {
    name: "transaction: a valid create, then an invalid patch (the create is rolled back)",
    call: (t) =>
      t.ctx.transaction(async (tx) => {
        const command = tx.document.command(products);
        const doc = await command.create({ name: "in tx", price: 1 });
        await command.update(doc.id, doc.rev, { price: "x" } as never);
      }),
    expect: validation(["price"]),
  },
  {
    name: "transaction: an update, then a conflicting one (the update is rolled back)",
    call: (t) =>
      t.ctx.transaction(async (tx) => {
        const command = tx.document.command(products);
        await command.update(t.good.id, t.good.rev, { price: 77 });
        await command.update(t.good.id, t.good.rev, { price: 78 });
      }),
    expect: rejects(ConflictError, "CONFLICT", (e) => expect((e as ConflictError).currentRev).toBe(2)),
  },
  {
    name: "transaction: a delete of an absent id",
    call: (t) => t.ctx.transaction((tx) => tx.document.command(products).delete(MISSING_ID)),
    expect: rejects(NotFoundError, "NOT_FOUND"),
  },
  {
    name: "transaction: a bad id read inside",
    call: (t) => t.ctx.transaction((tx) => tx.document.query(products).get("nope")),
    expect: validation(["id"]),
  },
  {
    name: "transaction: a bad id in a nested transaction",
    call: (t) => t.ctx.transaction((tx) => tx.transaction((inner) => inner.document.command(products).delete("nope"))),
    expect: validation(["id"]),
  },
  {
    name: "transaction: a bad key/value value inside",
    call: (t) => t.ctx.transaction((tx) => tx.cache("kv").set("k", undefined)),
    expect: validation(),
  },
  {
    name: "transaction: the application's own error after a write comes back as is, the write rolled back",
    call: async (t) => {
      const failure = new Error("application failure");
      try {
        await t.ctx.transaction(async (tx) => {
          await tx.document.command(products).create({ name: "rolled back", price: 1 });
          throw failure;
        });
      } catch (error) {
        return error === failure;
      }
      return false;
    },
    expect: resolves((same) => expect(same).toBe(true)),
  },
];

// ------------------------------------------------------------------------------ payload values past the schema

const deep = (levels: number): unknown => {
  let value: unknown = "leaf";
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
};
const circularBody: Record<string, unknown> = { a: 1 };
circularBody.self = circularBody;
const circularArray: unknown[] = [];
circularArray.push(circularArray);

const badBodies: ReadonlyArray<readonly [string, unknown, string]> = [
  ["a circular object", circularBody, "circular"],
  ["a circular array", circularArray, "circular"],
  ["5,000 levels deep", deep(5_000), "too_deep"],
  ["101 levels deep", deep(101), "too_deep"],
  ["a bigint", 1n, "not_json"],
  ["an object holding a bigint", { n: 1n }, "not_json"],
  ["a string with a NUL", "a\u0000b", "invalid_text"],
  ["a key with a NUL", { "a\u0000b": 1 }, "invalid_text"],
  ["a string with a lone surrogate", "a\ud800b", "invalid_text"],
  ["a key with a lone surrogate", { "\udc00": 1 }, "invalid_text"],
  ["a symbol", Symbol("s"), "not_json"],
  ["a function", () => 1, "not_json"],
  ["NaN", Number.NaN, "not_json"],
  ["an array holding undefined", [1, undefined], "not_json"],
  ["a Map", new Map([["a", 1]]), "not_json"],
];

const payloadRows: Row[] = [
  ...badBodies.flatMap(([what, body, code]): Row[] => [
    {
      name: `create (any-JSON field): body is ${what}`,
      call: (t) => t.notes.create({ body } as never),
      expect: issue(code),
    },
    {
      name: `update (any-JSON field): body is ${what}`,
      call: (t) => t.notes.update(t.goodNote.id, t.goodNote.rev, { body } as never),
      expect: issue(code),
    },
  ]),
  {
    name: "create (any-JSON field): 100 levels deep is accepted (rolled back)",
    call: (t) =>
      rolledBack(t, async (tx) => {
        const doc = await tx.document.command(notes).create({ body: deep(99) });
        return tx.document.query(notes).get(doc.id);
      }),
    expect: resolves((doc) => expect((doc as Doc<typeof notes>).body).toEqual(deep(99))),
  },
  ...(
    [
      ["name with a NUL", { name: "a\u0000b", price: 1 }],
      ["name with a lone surrogate", { name: "\ud83d", price: 1 }],
      ["a tag with a NUL", { name: "x", price: 1, tags: ["\u0000"] }],
      ["a tag with a lone surrogate", { name: "x", price: 1, tags: ["ok", "\udfff"] }],
    ] as const
  ).flatMap(([what, input]): Row[] => [
    { name: `create: ${what}`, call: (t) => t.command.create(input as never), expect: issue("invalid_text") },
    {
      name: `update: patch with ${what}`,
      call: (t) => t.command.update(t.good.id, t.good.rev, input as never),
      expect: issue("invalid_text"),
    },
  ]),
];

// ---------------------------------------------------------------------------------------- patch semantics

/** Runs `fn` in a transaction and rolls it back, returning what `fn` returned: a correct result, nothing written. */
async function rolledBack<T>(t: World, fn: (tx: Context) => Promise<T>): Promise<T> {
  const rollback = new Error("roll back");
  let result: T | undefined;
  try {
    await t.ctx.transaction(async (tx) => {
      result = await fn(tx);
      throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return result as T;
}

const patchRows: Row[] = [
  {
    name: "update: a patch of only unknown keys",
    call: (t) => t.command.update(t.good.id, t.good.rev, { colour: "red" } as never),
    expect: issue("unrecognized_keys"),
  },
  {
    name: "update: a patch of a misspelt key",
    call: (t) => t.command.update(t.good.id, t.good.rev, { prize: 5 } as never),
    expect: issue("unrecognized_keys"),
  },
  {
    name: "update: a known key and an unknown one",
    call: (t) => t.command.update(t.good.id, t.good.rev, { price: 5, colour: "red" } as never),
    expect: issue("unrecognized_keys"),
  },
  {
    name: "update: an empty patch",
    call: (t) => t.command.update(t.good.id, t.good.rev, {}),
    expect: issue("empty_patch"),
  },
  {
    name: "update: unsetting a required field",
    call: (t) => t.command.update(t.good.id, t.good.rev, { price: undefined } as never),
    expect: issue("invalid_type", ["price"]),
  },
  {
    name: "update: unsetting an optional field removes it (rolled back)",
    call: (t) =>
      rolledBack(t, async (tx) => {
        const updated = await tx.document.command(products).update(t.good.id, t.good.rev, { tags: undefined });
        return { updated, read: await tx.document.query(products).get(t.good.id) };
      }),
    expect: resolves((value, t) => {
      const { updated, read } = value as { updated: Doc<typeof products>; read: Doc<typeof products> };
      expect(updated.rev).toBe(t.good.rev + 1);
      expect("tags" in updated).toBe(false);
      expect(read).toEqual(updated);
      expect(read).toMatchObject({ name: t.good.name, price: t.good.price });
    }),
  },
  {
    name: "update: a patch leaves unnamed fields as they are (rolled back)",
    call: (t) => rolledBack(t, (tx) => tx.document.command(products).update(t.good.id, t.good.rev, { price: 11 })),
    expect: resolves((updated, t) =>
      expect(updated).toMatchObject({ name: t.good.name, price: 11, tags: t.good.tags, rev: t.good.rev + 1 }),
    ),
  },
];

// ------------------------------------------------------------------------------------ read options and signals

const readOptionRows: Row[] = [
  ...(
    [
      ["get", (t: World, signal: AbortSignal) => t.query.get(t.good.id, { signal, skipCache: true })],
      ["find", (t: World, signal: AbortSignal) => t.query.find(t.good.id, { signal, skipCache: true })],
      ["getMany", (t: World, signal: AbortSignal) => t.query.getMany([t.good.id], { signal, skipCache: true })],
      ["findMany", (t: World, signal: AbortSignal) => t.query.findMany([MISSING_ID], { signal, skipCache: true })],
      ["get of an absent id", (t: World, signal: AbortSignal) => t.query.get(MISSING_ID, { signal, skipCache: true })],
    ] as const
  ).map(
    ([what, read]): Row => ({
      name: `aborted signal with skipCache: ${what}`,
      call: (t) => read(t, AbortSignal.abort()),
      expect: rejects(AbortError, "ABORTED"),
    }),
  ),
  ...(
    [
      ["get", (tx: Context, t: World, signal: AbortSignal) => tx.document.query(products).get(t.good.id, { signal })],
      ["find", (tx: Context, t: World, signal: AbortSignal) => tx.document.query(products).find(t.good.id, { signal })],
      [
        "getMany",
        (tx: Context, t: World, signal: AbortSignal) => tx.document.query(products).getMany([t.good.id], { signal }),
      ],
      [
        "findMany",
        (tx: Context, t: World, signal: AbortSignal) => tx.document.query(products).findMany([t.good.id], { signal }),
      ],
      [
        "get of an L1 document",
        (tx: Context, t: World, signal: AbortSignal) => tx.document.query(gadgets).get(t.goodGadget.id, { signal }),
      ],
    ] as const
  ).map(
    ([what, read]): Row => ({
      name: `aborted signal inside a transaction: ${what}`,
      call: (t) => t.ctx.transaction((tx): Promise<unknown> => read(tx, t, AbortSignal.abort())),
      expect: rejects(AbortError, "ABORTED"),
    }),
  ),
  {
    name: "aborted signal: get of an L1 hit",
    call: async (t) => {
      await t.l1Query.get(t.goodGadget.id); // in L1 now
      return t.l1Query.get(t.goodGadget.id, { signal: AbortSignal.abort() });
    },
    expect: rejects(AbortError, "ABORTED"),
  },
  {
    name: "aborted signal: find of an L1 hit",
    call: async (t) => {
      await t.l1Query.get(t.goodGadget.id);
      return t.l1Query.find(t.goodGadget.id, { signal: AbortSignal.abort() });
    },
    expect: rejects(AbortError, "ABORTED"),
  },
  ...(
    [
      ["an empty object", {}],
      ["a string", "abort"],
      ["a look-alike { aborted: true }", { aborted: true, reason: "x" }],
      ["null", null],
      ["an AbortController", new AbortController()],
    ] as const
  ).flatMap(([what, signal]): Row[] => [
    {
      name: `read options: signal is ${what} (get)`,
      call: (t) => t.query.get(t.good.id, { signal } as never),
      expect: validation(["options", "signal"]),
    },
    {
      name: `read options: signal is ${what} (get, L1 document)`,
      call: (t) => t.l1Query.get(t.goodGadget.id, { signal } as never),
      expect: validation(["options", "signal"]),
    },
    {
      name: `read options: signal is ${what} (getMany, skipCache)`,
      call: (t) => t.query.getMany([t.good.id], { signal, skipCache: true } as never),
      expect: validation(["options", "signal"]),
    },
  ]),
  ...(
    [
      ["skipcache", { skipcache: true }, ["options", "skipcache"]],
      ["signl", { signl: AbortSignal.abort() }, ["options", "signl"]],
      ["skipCache a string", { skipCache: "yes" }, ["options", "skipCache"]],
      ["skipCache 1", { skipCache: 1 }, ["options", "skipCache"]],
      ["a string", "skipCache", ["options"]],
      ["null", null, ["options"]],
      ["an array", [], ["options"]],
      ["a Map", new Map(), ["options"]],
    ] as const
  ).flatMap(([what, options, path]): Row[] => [
    {
      name: `read options: ${what} (get)`,
      call: (t) => t.query.get(t.good.id, options as never),
      expect: validation(path),
    },
    {
      name: `read options: ${what} (find, L1 document)`,
      call: (t) => t.l1Query.find(t.goodGadget.id, options as never),
      expect: validation(path),
    },
    {
      name: `read options: ${what} (findMany)`,
      call: (t) => t.query.findMany([t.good.id], options as never),
      expect: validation(path),
    },
  ]),
];

// ------------------------------------------------------------------------------ one runtime, conflicting specs

const specClashRows: Row[] = [
  {
    name: "spec clash: one document name with other fields",
    call: (t) =>
      t.ctx.document.query(defineDocument({ name: "products", fields: z.object({ name: z.string() }), cache: {} })),
    expect: configuration(),
  },
  {
    name: "spec clash: one document name with another ttl",
    call: (t) =>
      t.ctx.document.command(defineDocument({ name: "products", fields: productFields, cache: { ttl: "1h" } })),
    expect: configuration(),
  },
  {
    name: "spec clash: one document name uncached",
    call: (t) => t.ctx.document.query(defineDocument({ name: "products", fields: productFields })),
    expect: configuration(),
  },
  {
    name: "spec clash: one document name with other fields, in a new context",
    call: (t) =>
      t.runtime
        .context()
        .document.query(defineDocument({ name: "gadgets", fields: productFields.extend({ x: z.string() }) })),
    expect: configuration(),
  },
  {
    name: "spec clash: an equal spec defined twice is the same document",
    call: (t) =>
      t.ctx.document.query(defineDocument({ name: "products", fields: productFields, cache: {} })).get(t.good.id),
    expect: resolves((doc, t) => expect(doc).toEqual(t.good)),
  },
  {
    name: "redis: a heartbeat timeout shorter than its interval still arms push, and it stays armed",
    call: async (t) => {
      const runtime = createRuntime({
        modules: [
          postgresModule({ url: t.databaseUrl, documents: { gadgets: { table: "gadgets" } } }),
          redisModule({
            url: t.redisUrl,
            caches: { gadgets: { namespace: `${NAMESPACE}:hb`, invalidationPush: true } },
            invalidation: { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 200 },
          }),
        ],
        documents: [gadgets],
        logger: silentLogger,
      });
      try {
        await runtime.start();
        const push = () => runtime.stats().caches.gadgets?.push;
        for (let i = 0; i < 200 && push()?.state !== "armed"; i++) await new Promise((r) => setTimeout(r, 10));
        const armed = push();
        // A few heartbeats later: each PING is answered well within 200 ms by this local server.
        await new Promise((r) => setTimeout(r, 800));
        return { armed, later: push() };
      } finally {
        await runtime.stop();
      }
    },
    expect: resolves((value) => {
      const { armed, later } = value as { armed: PushStats; later: PushStats };
      expect(armed.state).toBe("armed");
      expect(later).toMatchObject({ state: "armed", disarmings: 0 });
    }),
  },
  {
    name: "redis: a url naming a database the server does not have",
    call: async (t) => {
      const runtime = createRuntime({
        modules: [
          postgresModule({ url: t.databaseUrl, documents: { products: { table: "products" } } }),
          redisModule({ url: `${t.redisUrl}/99`, caches: { products: { namespace: `${NAMESPACE}:db99` } } }),
        ],
        logger: silentLogger,
      });
      try {
        await runtime.start();
      } finally {
        await runtime.stop();
      }
    },
    expect: configuration(),
  },
  {
    name: "redis: a url naming database 16 (one past the default 16)",
    call: async (t) => {
      const runtime = createRuntime({
        modules: [
          postgresModule({ url: t.databaseUrl, documents: { products: { table: "products" } } }),
          redisModule({ url: `${t.redisUrl}?db=16`, caches: { products: { namespace: `${NAMESPACE}:db16` } } }),
        ],
        logger: silentLogger,
      });
      try {
        await runtime.start();
      } finally {
        await runtime.stop();
      }
    },
    expect: configuration(),
  },
];

// ---------------------------------------------------------------------------------------------------- the table

const groups: ReadonlyArray<readonly [string, ReadonlyArray<Row>]> = [
  ["specs", specRows],
  ["module options", moduleRows],
  ["runtime options", [...runtimeRows, ...routeClashRows]],
  ["ids", [...idRows, ...idResultRows]],
  ["create payloads", createRows],
  ["update patches", updateRows],
  ["delete revs", deleteRows],
  ["key/value calls", kvRows],
  ["planted Redis data", [...plantedRows, ...plantedForeignRows, ...plantedKvRows, ...plantedKvTypeRows]],
  ["lifecycle misuse", lifecycleRows],
  ["aborted reads", abortedRows],
  ["transactions", transactionRows],
  ["payload values", payloadRows],
  ["patch semantics", patchRows],
  ["read options and signals", readOptionRows],
  ["conflicting specs and servers", specClashRows],
];
const allRows = groups.flatMap(([, rows]) => rows);
checkUniqueNames(allRows);

describe.skipIf(env.skip)("bad input", () => {
  let world: World;
  const extra: Runtime[] = [];
  let stopRedis: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const redis = await startRedis();
    stopRedis = () => redis.stop();
    const databaseUrl = env.postgres?.url as string;
    const h = new BadInputHarness(databaseUrl, redis.url);
    await h.open();
    const modules = () => [
      postgresModule({
        url: databaseUrl,
        documents: { products: { table: "products" }, gadgets: { table: "gadgets" }, notes: { table: "notes" } },
      }),
      redisModule({
        url: redis.url,
        caches: {
          products: { namespace: `${NAMESPACE}:products` },
          gadgets: { namespace: `${NAMESPACE}:gadgets` },
          kv: { namespace: `${NAMESPACE}:kv` },
        },
      }),
    ];
    const runtime = createRuntime({ modules: modules(), logger: silentLogger });
    await runtime.start();
    const ctx = runtime.context();
    const command = ctx.document.command(products);
    const good = await command.create({ name: "good", price: 10, tags: ["a"] });
    const goodGadget = await ctx.document.command(gadgets).create({ name: "gadget", price: 3 });
    const goodNote = await ctx.document.command(notes).create({ body: { text: "note" } });
    const spare = [];
    for (let i = 0; i < SPARE_DOCS; i++) spare.push(await command.create({ name: `spare ${i}`, price: i }));
    world = {
      h,
      databaseUrl,
      redisUrl: redis.url,
      runtime,
      ctx,
      query: ctx.document.query(products),
      command,
      l1Query: ctx.document.query(gadgets),
      good,
      goodGadget,
      notes: ctx.document.command(notes),
      goodNote,
      spare,
      kv: ctx.cache("kv"),
      kvBySpec: ctx.cache(products.cache as NonNullable<typeof products.cache>),
      fresh(options) {
        const created = createRuntime({
          modules: [postgresModule({ url: databaseUrl, documents: { products: { table: "products" } } })],
          logger: silentLogger,
          ...(options?.documents ? { documents: options.documents } : {}),
        });
        extra.push(created);
        return created;
      },
      freshWithRedis() {
        const created = createRuntime({
          modules: [
            postgresModule({ url: databaseUrl, documents: { products: { table: "products" } } }),
            redisModule({ url: redis.url, caches: { kv: { namespace: `${NAMESPACE}:kv` } } }),
          ],
          logger: silentLogger,
        });
        extra.push(created);
        return created;
      },
    };
  });

  afterAll(async () => {
    for (const runtime of extra) await runtime.stop().catch(() => {});
    await world?.runtime.stop();
    await world?.h.close();
    await stopRedis?.();
  });

  it(`holds at least 200 distinct inputs (${allRows.length})`, () => {
    expect(allRows.length).toBeGreaterThanOrEqual(200);
  });

  for (const [group, rows] of groups) {
    describe(group, () => {
      it.each(rows)("$name", async (row) => {
        await world.h.run(row, world, async () => {
          expect(await world.query.get(world.good.id)).toEqual(world.good);
          expect(await world.query.get(world.good.id, { skipCache: true })).toEqual(world.good);
          expect(await world.l1Query.get(world.goodGadget.id)).toEqual(world.goodGadget);
        });
      });
    });
  }
});

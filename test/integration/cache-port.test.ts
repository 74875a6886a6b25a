/**
 * The raw key/value port (`CachePort`, `ctx.cache(...)`), as one contract run against both backends: a real Redis
 * (RedisKvStore) and the in-process store (MemoryKvStore, on a manual clock). JSON values and raw bytes round-trip,
 * per-entry and default lifetimes expire, namespaces are isolated, bad input throws a typed error and writes
 * nothing. Then Redis only: the key layout, a server that dies or freezes (StrataError "UNAVAILABLE") and comes
 * back, and the port reached through a started runtime.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock.js";
import { ConfigurationError, RuntimeStateError, StrataError, ValidationError } from "../../src/kernel/errors.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import type { CachePort } from "../../src/l2/cache-port.js";
import { idKey } from "../../src/l2/key-layout.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { postgresModule } from "../../src/runtime/modules/postgres-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import type { Runtime } from "../../src/runtime/runtime.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { waitUntil } from "../support/eventually.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock, productSpec, sleep } from "../support/strata.js";
import { rejection } from "../support/throws.js";

const env = await integrationEnv({ redis: true, privateRedis: true });
const FP = "abcdef012345";

interface OpenedBackend {
  readonly backend: CacheBackend;
  /** Lets `ms` pass for the store's expiry: a manual clock moves, or real time goes by. */
  elapse(ms: number): Promise<void>;
  /** Writes bytes at a full key, bypassing the port (foreign or corrupt values). */
  plant(fullKey: string, bytes: Buffer): Promise<void>;
}

interface BackendKind {
  readonly name: string;
  open(namespaces: { a: string; b: string }): Promise<OpenedBackend>;
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const kinds: BackendKind[] = [
  {
    name: "memory",
    async open({ a, b }) {
      const clock = new ManualClock();
      const backend = await memoryCacheModule({ caches: { a: { namespace: a }, b: { namespace: b } } })
        .open({
          logger: silentLogger,
          clock,
        })
        .then((opened) => opened.backend);
      const keyspace = (backend as unknown as { keyspace: { set(k: string, v: Buffer, ttlMs: number): void } })
        .keyspace;
      return {
        backend,
        elapse: async (ms) => clock.advance(ms),
        plant: async (key, bytes) => keyspace.set(key, bytes, 60_000),
      };
    },
  },
  {
    name: "redis",
    async open({ a, b }) {
      const url = env.redisUrl as string;
      const backend = await redisModule({ url, caches: { a: { namespace: a }, b: { namespace: b } } })
        .open({
          logger: silentLogger,
          clock: systemClock,
        })
        .then((opened) => opened.backend);
      const raw = new Redis(url);
      closers.push(async () => void (await raw.quit()));
      return {
        backend,
        elapse: (ms) => sleep(ms),
        plant: async (key, bytes) => void (await raw.set(key, bytes, "PX", 60_000)),
      };
    },
  },
];

const BAD_TTLS: ReadonlyArray<unknown> = [
  "5", // unitless: ambiguous
  "5 s",
  "abc",
  "-1s",
  "1e3ms",
  "",
  0,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "366d",
  true,
  {},
];

describe.skipIf(env.skip).each(kinds)("CachePort contract on $name", (kind) => {
  let opened: OpenedBackend;
  let nsA: string;
  let nsB: string;
  /** Default ttl one minute. */
  let kv: CachePort;
  /** The other namespace, same backend. */
  let other: CachePort;
  let key: () => string;

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    nsA = `kvt:${kind.name}:${tag}:a`;
    nsB = `kvt:${kind.name}:${tag}:b`;
    opened = await kind.open({ a: nsA, b: nsB });
    closers.push(() => opened.backend.close());
    kv = opened.backend.namespace("a")!.kv(60_000);
    other = opened.backend.namespace("b")!.kv(60_000);
    let n = 0;
    key = () => `k${++n}:${randomUUID().slice(0, 6)}`;
  });

  it("misses an absent key, then stores, finds and reads it back", async () => {
    const k = key();
    expect(await kv.get(k)).toBeUndefined();
    expect(await kv.exists(k)).toBe(false);
    await kv.set(k, { hello: "world" });
    expect(await kv.exists(k)).toBe(true);
    expect(await kv.get(k)).toEqual({ hello: "world" });
    await kv.set(k, [1, 2, 3]);
    expect(await kv.get(k)).toEqual([1, 2, 3]); // overwritten
  });

  it("round-trips JSON values of every type, null included (a stored null is not a miss)", async () => {
    const values: unknown[] = [
      "plain",
      "",
      "ünïcödé ✓ 日本語 🚀",
      'quotes " and \\ backslash | pipe',
      0,
      42,
      -3.25,
      Number.MAX_SAFE_INTEGER,
      true,
      false,
      null,
      [],
      {},
      [1, "two", null, [true, { deep: [3] }]],
      { id: "a", n: 1, nested: { list: [1, 2], flag: false, nothing: null }, "weird key {x}": "y" },
    ];
    const keys = values.map(() => key());
    for (const [i, value] of values.entries()) await kv.set(keys[i]!, value);
    for (const [i, value] of values.entries()) expect(await kv.get(keys[i]!), JSON.stringify(value)).toEqual(value);
    expect(await kv.getMany(keys)).toEqual(values);
    const nullKey = keys[values.indexOf(null)]!;
    expect(await kv.get(nullKey)).toBeNull();
    expect(await kv.exists(nullKey)).toBe(true);
  });

  it("applies JSON semantics: toJSON, dropped undefined properties, non-finite numbers become null", async () => {
    const k = key();
    const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    await kv.set(k, { when, gone: undefined, nan: Number.NaN, inf: Number.POSITIVE_INFINITY, list: [undefined] });
    expect(await kv.get(k)).toEqual({ when: "2026-01-02T03:04:05.000Z", nan: null, inf: null, list: [null] });
  });

  it("round-trips raw bytes as a Uint8Array: every byte value, empty, a view into a larger buffer", async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const [kAll, kEmpty, kView, kU8] = [key(), key(), key(), key()];
    await kv.set(kAll, all);
    await kv.set(kEmpty, new Uint8Array(0));
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
    await kv.set(kView, backing.subarray(2, 5));
    await kv.set(kU8, new Uint8Array([0x6a, 0x7b, 0x7d])); // "j{}": bytes that look like the JSON tag stay bytes

    const got = await kv.get<Uint8Array>(kAll);
    expect(got).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(got!).equals(all)).toBe(true);
    const empty = await kv.get<Uint8Array>(kEmpty);
    expect(empty).toBeInstanceOf(Uint8Array);
    expect(empty!.byteLength).toBe(0);
    expect(Array.from((await kv.get<Uint8Array>(kView))!)).toEqual([1, 2, 3]);
    expect(Array.from((await kv.get<Uint8Array>(kU8))!)).toEqual([0x6a, 0x7b, 0x7d]);
    // And a JSON string that starts with the bytes tag stays a string.
    const kStr = key();
    await kv.set(kStr, "b\u0001\u0002");
    expect(await kv.get(kStr)).toBe("b\u0001\u0002");
    const many = await kv.getMany([kView, kStr, kEmpty]);
    expect(Array.from(many[0] as Uint8Array)).toEqual([1, 2, 3]);
    expect(many[1]).toBe("b\u0001\u0002");
    expect(many[2]).toBeInstanceOf(Uint8Array);
  });

  it("stores a copy of bytes and returns a fresh copy: mutating either side changes nothing stored", async () => {
    const k = key();
    const input = new Uint8Array([1, 2, 3]);
    await kv.set(k, input);
    input[0] = 99;
    const first = (await kv.get<Uint8Array>(k))!;
    expect(Array.from(first)).toEqual([1, 2, 3]);
    first[1] = 77;
    expect(Array.from((await kv.get<Uint8Array>(k))!)).toEqual([1, 2, 3]);
  });

  it("reads foreign bytes (not written by the port) as a miss", async () => {
    const [kForeign, kBadJson, kEmpty] = [key(), key(), key()];
    await opened.plant(`${nsA}:kv:${kForeign}`, Buffer.from("xyz"));
    await opened.plant(`${nsA}:kv:${kBadJson}`, Buffer.from("j{not json"));
    await opened.plant(`${nsA}:kv:${kEmpty}`, Buffer.alloc(0));
    expect(await kv.get(kForeign)).toBeUndefined();
    expect(await kv.get(kBadJson)).toBeUndefined();
    expect(await kv.get(kEmpty)).toBeUndefined();
    expect(await kv.getMany([kForeign, kBadJson, kEmpty])).toEqual([undefined, undefined, undefined]);
    // …and the next set replaces them.
    await kv.set(kForeign, { ok: 1 });
    expect(await kv.get(kForeign)).toEqual({ ok: 1 });
  });

  it("getMany answers in order, with duplicates and misses in place", async () => {
    const [a, b, c, ghost] = [key(), key(), key(), key()];
    await kv.set(a, "A");
    await kv.set(b, { b: true });
    await kv.set(c, 3);
    expect(await kv.getMany([c, ghost, a, b, a, ghost])).toEqual([3, undefined, "A", { b: true }, "A", undefined]);
    expect(await kv.getMany([ghost])).toEqual([undefined]);
  });

  it("keys may hold any characters: spaces, braces, colons, unicode", async () => {
    const base = key();
    const odd = [`${base} with space`, `${base}{tag}`, `${base}:a:b`, `${base}é日`, `${base}|x`];
    await kv.setMany(odd.map((k, i) => [k, i] as const));
    expect(await kv.getMany(odd)).toEqual([0, 1, 2, 3, 4]);
    expect(await kv.get(`${base}{tag}`)).toBe(1);
    expect(await kv.deleteMany(odd)).toBe(5);
  });

  it("setMany writes every entry; a later duplicate key wins", async () => {
    const [a, b, c] = [key(), key(), key()];
    await kv.setMany([
      [a, 1],
      [b, Buffer.from([7, 8])],
      [c, { c: "c" }],
      [a, 2],
    ]);
    const [ga, gb, gc] = await kv.getMany([a, b, c]);
    expect(ga).toBe(2);
    expect(Array.from(gb as Uint8Array)).toEqual([7, 8]);
    expect(gc).toEqual({ c: "c" });
  });

  it("delete says whether the key existed; deleteMany counts the keys that existed", async () => {
    const [a, b, c, ghost] = [key(), key(), key(), key()];
    await kv.setMany([
      [a, 1],
      [b, 2],
      [c, 3],
    ]);
    expect(await kv.delete(a)).toBe(true);
    expect(await kv.delete(a)).toBe(false);
    expect(await kv.get(a)).toBeUndefined();
    expect(await kv.delete(ghost)).toBe(false);
    // A duplicate counts once: the second occurrence no longer exists.
    expect(await kv.deleteMany([b, ghost, b, a])).toBe(1);
    expect(await kv.exists(b)).toBe(false);
    expect(await kv.exists(c)).toBe(true);
    expect(await kv.deleteMany([c])).toBe(1);
    expect(await kv.getMany([a, b, c])).toEqual([undefined, undefined, undefined]);
  });

  it("setMany of nothing writes nothing", async () => {
    await expect(kv.setMany([])).resolves.toBeUndefined();
    await expect(kv.setMany([], { ttl: "1s" })).resolves.toBeUndefined();
  });

  // Known bug (reported): on Redis, an empty getMany/deleteMany sends MGET/DEL with no key, which Redis refuses
  // ("wrong number of arguments"), so the port rejects with UNAVAILABLE where the memory backend answers [] / 0.
  it("getMany and deleteMany of nothing answer [] and 0", async () => {
    expect(await kv.getMany([])).toEqual([]);
    expect(await kv.deleteMany([])).toBe(0);
  });

  it("expires an entry after its own ttl (number or duration string), leaving longer-lived ones", async () => {
    const [shortN, shortS, manyA, manyB, long] = [key(), key(), key(), key(), key()];
    await kv.set(shortN, "n", { ttl: 150 });
    await kv.set(shortS, "s", { ttl: "150ms" });
    await kv.setMany(
      [
        [manyA, "a"],
        [manyB, "b"],
      ],
      { ttl: "0.15s" },
    );
    await kv.set(long, "long", { ttl: "1m" });
    await opened.elapse(50);
    expect(await kv.getMany([shortN, shortS, manyA, manyB, long])).toEqual(["n", "s", "a", "b", "long"]);
    await opened.elapse(350);
    expect(await kv.getMany([shortN, shortS, manyA, manyB, long])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      "long",
    ]);
    expect(await kv.get(shortN)).toBeUndefined();
    expect(await kv.exists(shortS)).toBe(false);
    expect(await kv.delete(manyA)).toBe(false);
    expect(await kv.exists(long)).toBe(true);
  });

  it("uses the port's default ttl when a set gives none, and a set's own ttl over it", async () => {
    const brief = opened.backend.namespace("a")!.kv(150);
    const [dflt, dfltMany, own, reset] = [key(), key(), key(), key()];
    await brief.set(dflt, 1);
    await brief.setMany([[dfltMany, 2]]);
    await brief.set(own, 3, { ttl: "1m" });
    await kv.set(reset, 4, { ttl: 150 });
    await kv.set(reset, 5); // a set replaces the lifetime too: now the one-minute default of `kv`
    await opened.elapse(50);
    // Ports of one namespace share its keys, whatever their default ttl.
    expect(await kv.getMany([dflt, dfltMany, own, reset])).toEqual([1, 2, 3, 5]);
    await opened.elapse(350);
    expect(await brief.getMany([dflt, dfltMany, own, reset])).toEqual([undefined, undefined, 3, 5]);
  });

  it("isolates namespaces: same key, separate values, deletes and counts", async () => {
    const k = key();
    await kv.set(k, "in a");
    expect(await other.get(k)).toBeUndefined();
    expect(await other.exists(k)).toBe(false);
    await other.set(k, "in b");
    expect(await kv.get(k)).toBe("in a");
    expect(await other.get(k)).toBe("in b");
    expect(await other.delete(k)).toBe(true);
    expect(await kv.get(k)).toBe("in a");
    expect(await other.deleteMany([k])).toBe(0);
    expect(await kv.deleteMany([k])).toBe(1);
  });

  it("never collides with the namespace's document entries", async () => {
    const namespace = opened.backend.namespace("a")!;
    const entries = namespace.entries(FP);
    const id = randomUUID();
    const lookalike = `${FP}:d:{${id}}`; // the entry key's suffix after `<namespace>:`
    expect(idKey(namespace.entryPrefix(FP), id)).toBe(`${nsA}:${lookalike}`);
    await kv.set(lookalike, "kv value");
    expect(await entries.read(id)).toBe("miss");
    const id2 = randomUUID();
    const now = Date.now();
    expect(
      await entries.put(
        id2,
        { incarnation: 1, rev: 1, fetchedAt: now, delta: 1, freshUntil: now + 60_000, body: "{}" },
        60_000,
      ),
    ).toBe("stored");
    expect(await kv.get(`${FP}:d:{${id2}}`)).toBeUndefined();
    expect(await kv.exists(`${FP}:d:{${id2}}`)).toBe(false);
    expect(await entries.read(id2)).toMatchObject({ rev: 1 });
  });

  it("refuses an invalid ttl with a ConfigurationError and writes nothing", async () => {
    for (const ttl of BAD_TTLS) {
      const k = key();
      const label = `ttl ${typeof ttl === "number" ? ttl : JSON.stringify(ttl)}`;
      const error = await rejection(() => kv.set(k, "v", { ttl: ttl as never }));
      expect(error, label).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code, label).toBe("CONFIGURATION");
      expect((error as ConfigurationError).path, label).toBe("ttl");
      const many = await rejection(() =>
        kv.setMany(
          [
            [k, 1],
            [`${k}-2`, 2],
          ],
          { ttl: ttl as never },
        ),
      );
      expect(many, label).toBeInstanceOf(ConfigurationError);
      expect(await kv.getMany([k, `${k}-2`]), label).toEqual([undefined, undefined]);
    }
  });

  it("refuses a value JSON cannot carry with a ValidationError and writes nothing, keeping the old value", async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const bad: Array<[string, unknown]> = [
      ["undefined", undefined],
      ["function", () => 1],
      ["symbol", Symbol("s")],
      ["bigint", 10n],
      ["circular", circular],
      ["nested bigint", { n: [1n] }],
    ];
    for (const [label, value] of bad) {
      const k = key();
      await kv.set(k, "before");
      const error = await rejection(() => kv.set(k, value));
      expect(error, label).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code, label).toBe("VALIDATION");
      expect((error as ValidationError).issues[0]?.code, label).toBe("not_json");
      expect(await kv.get(k), label).toBe("before");

      // One bad value refuses the whole batch: the good entries around it are not written either.
      const [first, last] = [key(), key()];
      const batch = await rejection(() =>
        kv.setMany([
          [first, "first"],
          [k, value],
          [last, "last"],
        ]),
      );
      expect(batch, label).toBeInstanceOf(ValidationError);
      expect(await kv.getMany([first, k, last]), label).toEqual([undefined, "before", undefined]);
    }
  });
});

describe.skipIf(env.skip)("CachePort on Redis: layout, faults and recovery", () => {
  let redis: RedisProcess;
  let raw: Redis;
  let backend: CacheBackend;
  let kv: CachePort;
  const namespace = `kvf:${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    redis = await startRedis();
    closers.push(() => redis.stop());
    raw = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    raw.on("error", () => {});
    closers.push(async () => raw.disconnect());
    backend = await redisModule({ url: redis.url, caches: { c: { namespace } }, timeoutMs: 150 })
      .open({
        logger: silentLogger,
        clock: systemClock,
      })
      .then((opened) => opened.backend);
    closers.push(() => backend.close());
    kv = backend.namespace("c")!.kv(45_000);
  });

  it("stores under <namespace>:kv:<key>: a tag byte then the payload, with the ttl as PX", async () => {
    await kv.set("json", { a: 1 });
    await kv.set("bytes", Buffer.from([0, 255]), { ttl: "2s" });
    expect(await raw.get(`${namespace}:kv:json`)).toBe('j{"a":1}');
    expect([...(await raw.getBuffer(`${namespace}:kv:bytes`))!]).toEqual([0x62, 0, 255]);
    const pttl = await raw.pttl(`${namespace}:kv:json`);
    expect(pttl).toBeGreaterThan(40_000);
    expect(pttl).toBeLessThanOrEqual(45_000);
    const own = await raw.pttl(`${namespace}:kv:bytes`);
    expect(own).toBeGreaterThan(1_000);
    expect(own).toBeLessThanOrEqual(2_000);
    await kv.setMany([["many", "m"]], { ttl: "3s" });
    expect(await raw.get(`${namespace}:kv:many`)).toBe('j"m"');
    expect(await raw.pttl(`${namespace}:kv:many`)).toBeGreaterThan(2_000);
  });

  /** Every port call rejects with UNAVAILABLE; bad input is still refused as bad input, before any I/O. */
  const expectDown = async () => {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["get", () => kv.get("survivor")],
      ["getMany", () => kv.getMany(["survivor", "x"])],
      ["exists", () => kv.exists("survivor")],
      ["set", () => kv.set("y", 1)],
      ["setMany", () => kv.setMany([["y", 1]])],
      ["delete", () => kv.delete("survivor")],
      ["deleteMany", () => kv.deleteMany(["survivor", "y"])],
    ];
    for (const [name, call] of calls) {
      const error = await rejection(call());
      expect(error, name).toBeInstanceOf(StrataError);
      expect((error as StrataError).code, name).toBe("UNAVAILABLE");
      expect((error as Error).message, name).toMatch(/^redis \S.* failed: /);
      expect((error as Error).cause, name).toBeInstanceOf(Error);
    }
    expect(await rejection(() => kv.set("y", 1, { ttl: "soon" as never }))).toBeInstanceOf(ConfigurationError);
    expect(await rejection(() => kv.set("y", undefined))).toBeInstanceOf(ValidationError);
  };

  it("rejects every call with StrataError UNAVAILABLE while the server is down, and recovers after restart", async () => {
    await kv.set("survivor", "before");
    await redis.kill();
    try {
      await expectDown();
    } finally {
      await redis.restart(); // even on failure: the tests after this one need a server
    }
    await waitUntil(
      async () =>
        kv.get("survivor").then(
          () => true,
          () => false,
        ),
      { timeoutMs: 15_000, intervalMs: 50, message: "the port did not recover after restart" },
    );
    // The new server starts empty (no persistence); the port works as before.
    expect(await kv.get("survivor")).toBeUndefined();
    await kv.set("after", { back: true });
    expect(await kv.get("after")).toEqual({ back: true });
    expect(await kv.getMany(["after", "survivor"])).toEqual([{ back: true }, undefined]);
    expect(await kv.deleteMany(["after"])).toBe(1);
  });

  it("rejects with UNAVAILABLE within the timeout when the server freezes, and answers after it resumes", async () => {
    await kv.set("frozen", 1);
    await redis.pause();
    try {
      const started = Date.now();
      const error = await rejection(kv.get("frozen"));
      expect(error).toBeInstanceOf(StrataError);
      expect((error as StrataError).code).toBe("UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await redis.resume();
    }
    await waitUntil(
      async () =>
        kv.get("frozen").then(
          (value) => value === 1,
          () => false,
        ),
      { timeoutMs: 10_000, intervalMs: 50, message: "the port did not answer after resume" },
    );
    expect(await kv.exists("frozen")).toBe(true);
  });

  it("bounds calls on a shared client without commandTimeout by its own deadline, and leaves that client open", async () => {
    const client = new Redis(redis.url);
    client.on("error", () => {});
    try {
      const shared = await redisModule({ client, caches: { c: { namespace } }, timeoutMs: 120 })
        .open({
          logger: silentLogger,
          clock: systemClock,
        })
        .then((opened) => opened.backend);
      const port = shared.namespace("c")!.kv(60_000);
      await port.set("shared", [1]);
      expect(await kv.get("shared")).toEqual([1]); // same namespace, other client
      await redis.pause();
      try {
        const started = Date.now();
        const error = await rejection(port.getMany(["shared"]));
        expect((error as StrataError).code).toBe("UNAVAILABLE");
        expect((error as Error).message).toMatch(/timed out after 120ms/);
        expect(Date.now() - started).toBeLessThan(1_500);
      } finally {
        await redis.resume();
      }
      await shared.close();
      expect(client.status).toBe("ready");
      expect(await client.get(`${namespace}:kv:shared`)).toBe("j[1]");
    } finally {
      client.disconnect();
    }
  });
});

describe.skipIf(env.skip)("CachePort through a runtime", () => {
  let runtime: Runtime;
  let raw: Redis;
  const namespace = `kvr:${randomUUID().slice(0, 8)}`;
  const sessions = productSpec({ name: "sessions", ttl: "2s" }, "sessiondocs");

  beforeAll(async () => {
    raw = new Redis(env.redisUrl as string);
    closers.push(async () => void (await raw.quit()));
    runtime = createRuntime({
      modules: [
        postgresModule({ pglite: true, documents: { products: {} } }),
        redisModule({ url: env.redisUrl as string, caches: { sessions: { namespace } } }),
        memoryCacheModule({ caches: { scratch: { namespace: `${namespace}:mem` } } }),
      ],
      logger: silentLogger,
    });
    await runtime.start();
    closers.push(() => runtime.stop());
  });

  it("ctx.cache(name) is a working port on the routed Redis namespace, with the 5-minute default ttl", async () => {
    const port = runtime.context().cache("sessions");
    await port.set("user:1", { name: "Ada" });
    expect(await port.get("user:1")).toEqual({ name: "Ada" });
    expect(await raw.get(`${namespace}:kv:user:1`)).toBe('j{"name":"Ada"}');
    const pttl = await raw.pttl(`${namespace}:kv:user:1`);
    expect(pttl).toBeGreaterThan(290_000);
    expect(pttl).toBeLessThanOrEqual(300_000);
    // Another context sees the same data.
    expect(await runtime.context().cache("sessions").getMany(["user:1", "user:2"])).toEqual([
      { name: "Ada" },
      undefined,
    ]);
    expect(await port.delete("user:1")).toBe(true);
    expect(await raw.exists(`${namespace}:kv:user:1`)).toBe(0);
  });

  it("ctx.cache(spec.cache) routes by the spec's cache name and defaults to its ttl", async () => {
    expect(sessions.cache?.name).toBe("sessions");
    const port = runtime.context().cache(sessions.cache!);
    await port.set("token", "abc");
    expect(await runtime.context().cache("sessions").get("token")).toBe("abc");
    const pttl = await raw.pttl(`${namespace}:kv:token`);
    expect(pttl).toBeGreaterThan(1_000);
    expect(pttl).toBeLessThanOrEqual(2_000);
  });

  it("serves a memory-routed cache too, apart from the Redis one", async () => {
    const scratch = runtime.context().cache("scratch");
    await scratch.set("token", Buffer.from("mem"));
    expect(Buffer.from((await scratch.get<Uint8Array>("token"))!).toString()).toBe("mem");
    await runtime.context().cache("sessions").set("token", "redis");
    expect(await runtime.context().cache("sessions").get("token")).toBe("redis");
    expect(Buffer.from((await scratch.get<Uint8Array>("token"))!).toString()).toBe("mem");
    expect(await raw.exists(`${namespace}:mem:kv:token`)).toBe(0); // memory stays in the process
  });

  it("refuses an unrouted cache name, and ports after stop", async () => {
    const ctx = runtime.context();
    const unrouted = await rejection(async () => ctx.cache("nowhere"));
    expect(unrouted).toBeInstanceOf(ConfigurationError);
    expect((unrouted as ConfigurationError).path).toBe("caches.nowhere");
    const port = ctx.cache("sessions");
    await runtime.stop();
    expect(() => ctx.cache("sessions")).toThrow(RuntimeStateError);
    // A port kept from before reports the runtime's state, like the document ports (not the closed connection).
    const error = await rejection(port.get("token"));
    expect(error).toBeInstanceOf(RuntimeStateError);
    expect((error as StrataError).code).toBe("STOPPED");
  });
});

/**
 * Input rules of the key/value port on both backends (real Redis, in-process store): keys that are not non-empty
 * strings of printable characters are refused (no more `…:kv:undefined`), values over the cache's `maxValueBytes`
 * (default 1 MiB, configurable per cache) are refused, each with a ValidationError and nothing written.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock.js";
import { ConfigurationError, ValidationError } from "../../src/kernel/errors.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import type { CachePort } from "../../src/l2/cache-port.js";
import { DEFAULT_MAX_VALUE_BYTES, MAX_KV_KEY_LENGTH } from "../../src/l2/kv-input.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import { integrationEnv } from "../support/services.js";
import { rejection } from "../support/throws.js";

const env = await integrationEnv({ redis: true });

const BAD_KEYS: ReadonlyArray<[string, unknown]> = [
  ["undefined", undefined],
  ["null", null],
  ["a number", 1],
  ["an object", { toString: () => "k" }],
  ["empty", ""],
  ["too long", "k".repeat(MAX_KV_KEY_LENGTH + 1)],
  ["NUL", "a\u0000b"],
  ["newline", "a\nb"],
  ["DEL", "a\u007fb"],
  ["a lone high surrogate", "a\ud800"],
  ["a lone low surrogate", "\udc00b"],
];

interface Opened {
  readonly backend: CacheBackend;
  /** Every key the backend holds under the namespace. */
  keys(): Promise<string[]>;
}

const kinds: ReadonlyArray<{ name: string; open(namespace: string): Promise<Opened> }> = [
  {
    name: "memory",
    async open(namespace) {
      const backend = await memoryCacheModule({
        caches: { a: { namespace }, small: { namespace: `${namespace}s`, maxValueBytes: 64 } },
      })
        .open({ logger: silentLogger, clock: systemClock })
        .then((opened) => opened.backend);
      const keyspace = (backend as unknown as { keyspace: { get(key: string): unknown } }).keyspace;
      return {
        backend,
        // The in-process store has no SCAN: probe the keys a coerced write would have used.
        keys: async () =>
          ["undefined", "null", "1", "k", ""].map((k) => `${namespace}:kv:${k}`).filter((k) => keyspace.get(k)),
      };
    },
  },
  {
    name: "redis",
    async open(namespace) {
      const backend = await redisModule({
        url: env.redisUrl!,
        caches: { a: { namespace }, small: { namespace: `${namespace}s`, maxValueBytes: 64 } },
      })
        .open({ logger: silentLogger, clock: systemClock })
        .then((opened) => opened.backend);
      const raw = new Redis(env.redisUrl!);
      closers.push(async () => void (await raw.quit()));
      return { backend, keys: () => raw.keys(`${namespace}*`) };
    },
  },
];

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe.skipIf(env.skip).each(kinds)("key/value input on $name", (kind) => {
  let opened: Opened;
  let kv: CachePort;
  let small: CachePort;

  beforeAll(async () => {
    opened = await kind.open(`kvin:${randomUUID().slice(0, 8)}`);
    closers.push(() => opened.backend.close());
    kv = opened.backend.namespace("a")!.kv(60_000);
    small = opened.backend.namespace("small")!.kv(60_000);
  });

  it.each(BAD_KEYS)("refuses %s as a key in every call, writing nothing", async (_what, key) => {
    const k = key as string;
    const calls: Array<() => Promise<unknown>> = [
      () => kv.set(k, 1),
      () => kv.get(k),
      () => kv.exists(k),
      () => kv.delete(k),
      () => kv.getMany(["ok", k]),
      () => kv.deleteMany(["ok", k]),
      () => kv.setMany([["ok", 1] as const, [k, 2] as const]),
    ];
    for (const call of calls) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.code).toBe("invalid_key");
    }
    expect(await opened.keys()).toEqual([]);
    expect(await kv.get("ok")).toBeUndefined();
  });

  it("accepts a key of exactly the maximum length", async () => {
    const key = "k".repeat(MAX_KV_KEY_LENGTH);
    await kv.set(key, 1);
    expect(await kv.get(key)).toBe(1);
    await kv.delete(key);
  });

  it("refuses a value over 1 MiB by default, keeping the old value; one at the limit is stored", async () => {
    const key = `big:${randomUUID()}`;
    await kv.set(key, "before");
    // Encoded: a tag byte, then the JSON string with its two quotes.
    const atLimit = "x".repeat(DEFAULT_MAX_VALUE_BYTES - 3);
    await kv.set(`${key}:ok`, atLimit);
    expect(await kv.get(`${key}:ok`)).toBe(atLimit);
    for (const value of [`${atLimit}x`, new Uint8Array(DEFAULT_MAX_VALUE_BYTES), { list: [atLimit] }]) {
      const error = await rejection(() => kv.set(key, value));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.code).toBe("too_large");
      const batch = await rejection(() => kv.setMany([[`${key}:other`, 1] as const, [key, value] as const]));
      expect((batch as ValidationError).issues[0]).toMatchObject({ code: "too_large", path: ["entries", 1] });
    }
    expect(await kv.get(key)).toBe("before");
    expect(await kv.get(`${key}:other`)).toBeUndefined();
  });

  it.each([
    ["null", null],
    ["a bare duration", "5m"],
    ["a number", 60_000],
    ["an array", [{ ttl: "5m" }]],
    ["a Map", new Map([["ttl", "5m"]])],
    ["a misspelt key", { tll: "5m" }],
  ])("refuses set options that are %s, writing nothing", async (_what, options) => {
    for (const call of [
      () => kv.set("opt", 1, options as never),
      () => kv.setMany([["opt", 1] as const], options as never),
    ]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.code).toBe("invalid_option");
    }
    expect(await kv.exists("opt")).toBe(false);
  });

  it("honours a cache's own maxValueBytes", async () => {
    await small.set("fits", "x".repeat(61)); // 1 + 2 + 61 = 64 bytes
    expect(await small.get("fits")).toBe("x".repeat(61));
    const error = await rejection(() => small.set("over", "x".repeat(62)));
    expect((error as ValidationError).issues[0]?.code).toBe("too_large");
    expect(await small.exists("over")).toBe(false);
  });
});

describe("maxValueBytes option", () => {
  it.each([0, -1, 1.5, "1mb", Number.NaN])("refuses %s with a ConfigurationError naming the cache", (value) => {
    for (const make of [
      () =>
        redisModule({
          url: "redis://127.0.0.1:6379",
          caches: { a: { namespace: "a", maxValueBytes: value as number } },
        }),
      () => memoryCacheModule({ caches: { a: { maxValueBytes: value as number } } }),
    ]) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).path).toMatch(/caches\.a\.maxValueBytes$/);
    }
  });
});

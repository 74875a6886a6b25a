/**
 * The sealing primitives (src/sealing): keyring checks, the sealed-value format, authentication of every byte and of
 * the associated data, key rotation, compression flags, and the inflate bound.
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../src/kernel/errors.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import { keyring } from "../../src/sealing/keyring.js";
import { ValueSealer } from "../../src/sealing/value-sealer.js";

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const aad = Buffer.from("d|ns|tenant|fp|id-1");
const text = Buffer.from(JSON.stringify({ name: "secret widget", note: "x".repeat(3000) }));

describe("keyring()", () => {
  it("refuses short keys, strings (passwords), unknown active ids, bad ids and empty rings", () => {
    expect(() => keyring({ keys: { a: randomBytes(16) }, active: "a" })).toThrow(/exactly 32 bytes/);
    expect(() => keyring({ keys: { a: "correct horse battery staple" as never }, active: "a" })).toThrow(/passwords/);
    expect(() => keyring({ keys: { a: k1 }, active: "b" })).toThrow(ConfigurationError);
    expect(() => keyring({ keys: { "a:b": k1 }, active: "a:b" })).toThrow(/key id/);
    expect(() => keyring({ keys: {}, active: "a" })).toThrow(/at least one key/);
    expect(() => keyring({ keys: { a: k1 }, active: "a", extra: 1 } as never)).toThrow(/not a keyring option/);
  });

  it("copies the key: changing the caller's buffer later changes nothing", () => {
    const bytes = Buffer.from(k1);
    const ring = keyring({ keys: { a: bytes }, active: "a" });
    const sealed = new ValueSealer({ keyring: ring }, 1 << 20).seal(text, aad);
    bytes.fill(0);
    expect(new ValueSealer({ keyring: ring }, 1 << 20).open(sealed, aad)).toEqual(text);
  });
});

describe("ValueSealer", () => {
  const ring = keyring({ keys: { k1 }, active: "k1" });
  const sealer = new ValueSealer({ keyring: ring, compression: { algorithm: "gzip", thresholdBytes: 1024 } }, 1 << 20);

  it("round-trips, compressing before encrypting, and hides the plaintext", () => {
    const sealed = sealer.seal(text, aad);
    expect(sealed.length).toBeLessThan(text.length / 4); // compressed: the repeated note shrinks
    expect(sealed.includes(Buffer.from("secret"))).toBe(false);
    expect(sealer.open(sealed, aad)).toEqual(text);
    expect(sealer.stats()).toMatchObject({ sealed: 1, opened: 1, compressed: 1, authFailed: 0 });
    expect(sealer.stats().bytesSaved).toBeGreaterThan(2000);
  });

  it("a flipped bit anywhere in a sealed value fails (never returns other bytes)", () => {
    const sealed = sealer.seal(text, aad);
    fc.assert(
      fc.property(fc.nat(sealed.length - 1), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const copy = Buffer.from(sealed);
        copy[at] = (copy[at] as number) ^ (1 << bit);
        expect(typeof sealer.open(copy, aad)).toBe("string");
      }),
      { numRuns: 300 },
    );
  });

  it("other associated data (another id, tenant, namespace) fails authentication", () => {
    const sealed = sealer.seal(text, aad);
    for (const other of ["d|ns|tenant|fp|id-2", "d|ns|other|fp|id-1", "d|ns2|tenant|fp|id-1"]) {
      expect(sealer.open(sealed, Buffer.from(other))).toBe("auth");
    }
  });

  it("rotation: old values open while their key is held, new ones use the active key; a removed key is a miss", () => {
    const old = new ValueSealer({ keyring: keyring({ keys: { k1 }, active: "k1" }) }, 1 << 20).seal(text, aad);
    const rotated = new ValueSealer({ keyring: keyring({ keys: { k1, k2 }, active: "k2" }) }, 1 << 20);
    expect(rotated.open(old, aad)).toEqual(text);
    const fresh = rotated.seal(text, aad);
    expect(fresh.toString("latin1", 3, 3 + fresh[2]!)).toBe("k2");
    const retired = new ValueSealer({ keyring: keyring({ keys: { k2 }, active: "k2" }) }, 1 << 20);
    expect(retired.open(fresh, aad)).toEqual(text);
    expect(retired.open(old, aad)).toBe("unknown-key");
    expect(retired.stats().unknownKey).toBe(1);
  });

  it("a route that encrypts refuses a value stored in clear; a compress-only route reads mixed values", () => {
    const packOnly = new ValueSealer({ compression: { algorithm: "brotli", thresholdBytes: 10 } }, 1 << 20);
    const packed = packOnly.seal(text, aad);
    const small = packOnly.seal(Buffer.from("tiny"), aad);
    expect(small[1]).toBe(0); // under the threshold: stored as is, flagged so
    expect(packOnly.open(packed, aad)).toEqual(text);
    expect(packOnly.open(small, aad)).toEqual(Buffer.from("tiny"));
    expect(sealer.open(packed, aad)).toBe("auth");
  });

  it("a value that would inflate past the limit is a miss, not an allocation", () => {
    const packOnly = new ValueSealer({ compression: { algorithm: "gzip", thresholdBytes: 0 } }, 1 << 20);
    const bomb = packOnly.seal(Buffer.alloc(4 << 20), aad); // 4 MiB of zeros, a few KiB packed
    expect(packOnly.open(bomb, aad)).toBe("corrupt");
  });
});

describe("sealing and tenancy options of the modules", () => {
  it("refuse a bad key, compression or tenancy naming the path, and nothing else", () => {
    const bad = (caches: Record<string, unknown>) => () => redisModule({ url: "redis://x", caches: caches as never });
    expect(bad({ c: { namespace: "n", encryption: { keys: { k: randomBytes(31) }, active: "k" } } })).toThrow(
      expect.objectContaining({ path: "redisModule.caches.c.encryption.keys.k" }),
    );
    expect(bad({ c: { namespace: "n", compression: { algorithm: "zstd" } } })).toThrow(
      expect.objectContaining({ path: "redisModule.caches.c.compression.algorithm" }),
    );
    expect(bad({ c: { namespace: "n", tenancy: "per-tenant" } })).toThrow(
      expect.objectContaining({ path: "redisModule.caches.c.tenancy" }),
    );
    expect(() => memoryCacheModule({ caches: { c: { tenancy: { dedicated: () => "redis://x" } as never } } })).toThrow(
      expect.objectContaining({ path: "memoryCacheModule.caches.c.tenancy.dedicated" }),
    );
    expect(
      bad({ c: { namespace: "n", encryption: keyring({ keys: { k1 }, active: "k1" }), compression: true } }),
    ).not.toThrow();
  });
});

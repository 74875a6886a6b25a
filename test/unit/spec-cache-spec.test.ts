import { describe, expect, it } from "vitest";
import type { L1StoreFactory } from "../../src/l1/l1-store.js";
import { CACHE_SPEC_DEFAULTS, parseCacheSpec } from "../../src/spec/cache-spec.js";
import { expectConfigurationError } from "../support/throws.js";

const parse = (input: unknown) => parseCacheSpec(input, "products");

/** Asserts that `input` is refused with a ConfigurationError at `path`; returns the message. */
function rejects(input: unknown, path: string): string {
  return expectConfigurationError(() => parse(input), { code: "CONFIGURATION", path, messageStartsWithPath: true })
    .message;
}

const factory: L1StoreFactory = () => {
  throw new Error("not called while parsing");
};

describe("parseCacheSpec defaults", () => {
  it("resolves {} to a cached document with every default", () => {
    expect(parse({})).toEqual({
      name: "products",
      ttlMs: 300_000,
      l1: undefined,
      earlyRefresh: undefined,
      ageTtl: undefined,
      slidingTtlMs: undefined,
      graceMs: 0,
    });
  });

  it("fills l1 capacity (1024) and policy (lru)", () => {
    expect(parse({ l1: { ttl: "2s" } }).l1).toEqual({ ttlMs: 2_000, capacity: 1024, policy: "lru" });
  });

  it("fills earlyRefresh beta (1) and background (false)", () => {
    expect(parse({ earlyRefresh: {} }).earlyRefresh).toEqual({ beta: 1, background: false });
  });

  it("fills ageTtl alpha (0.1), min (30s) and max (1h)", () => {
    expect(parse({ ageTtl: {} }).ageTtl).toEqual({ alpha: 0.1, minMs: 30_000, maxMs: 3_600_000 });
  });

  it("publishes the defaults it applies", () => {
    expect(CACHE_SPEC_DEFAULTS).toEqual({
      ttl: "5m",
      l1: { capacity: 1024, policy: "lru" },
      earlyRefresh: { beta: 1, background: false },
      ageTtl: { alpha: 0.1, min: "30s", max: "1h" },
      lease: { maxWait: "2s", ttl: "5s" },
    });
    expect(Object.isFrozen(CACHE_SPEC_DEFAULTS)).toBe(true);
  });

  it("resolves a full spec, every duration in milliseconds", () => {
    expect(
      parse({
        name: "catalog:hot",
        ttl: "10m",
        l1: { ttl: 1_500, capacity: 64, policy: "tinylfu" },
        earlyRefresh: { beta: 2.5, background: true },
        ageTtl: { alpha: 0.2, min: "1s", max: "2h" },
        slidingTtl: "1m",
        grace: "1d",
      }),
    ).toEqual({
      name: "catalog:hot",
      ttlMs: 600_000,
      l1: { ttlMs: 1_500, capacity: 64, policy: "tinylfu" },
      earlyRefresh: { beta: 2.5, background: true },
      ageTtl: { alpha: 0.2, minMs: 1_000, maxMs: 7_200_000 },
      slidingTtlMs: 60_000,
      graceMs: 86_400_000,
    });
  });

  it("treats a key set to undefined as absent", () => {
    expect(parse({ ttl: undefined, l1: undefined, grace: undefined })).toEqual(parse({}));
    expect(parse({ l1: { ttl: "1s", capacity: undefined } }).l1?.capacity).toBe(1024);
  });

  it("returns a deep-frozen spec", () => {
    const spec = parse({ l1: { ttl: "1s" }, earlyRefresh: {}, ageTtl: {} });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.l1)).toBe(true);
    expect(Object.isFrozen(spec.earlyRefresh)).toBe(true);
    expect(Object.isFrozen(spec.ageTtl)).toBe(true);
  });

  it("does not mutate its input", () => {
    const input = { l1: { ttl: "1s" as const } };
    parse(input);
    expect(input).toEqual({ l1: { ttl: "1s" } });
  });
});

describe("parseCacheSpec shape", () => {
  it.each([null, true, false, "5m", 5, [], new Map(), new (class Spec {})()])("rejects cache = %s", (value) => {
    rejects(value, "cache");
  });

  it.each([
    ["l1", "cache.l1"],
    ["earlyRefresh", "cache.earlyRefresh"],
    ["ageTtl", "cache.ageTtl"],
  ])("rejects a non-object %s", (key, path) => {
    for (const value of [null, true, "2s", 2_000, []]) rejects({ [key]: value }, path);
  });

  it("rejects unknown keys at every level, with a did-you-mean hint", () => {
    expect(rejects({ tll: "5m" }, "cache.tll")).toContain("did you mean ttl?");
    expect(rejects({ TTL: "5m" }, "cache.TTL")).toContain("did you mean ttl?");
    expect(rejects({ earlyrefresh: {} }, "cache.earlyrefresh")).toContain("did you mean earlyRefresh?");
    expect(rejects({ l1: { ttl: "1s", capcity: 5 } }, "cache.l1.capcity")).toContain("did you mean capacity?");
    expect(rejects({ earlyRefresh: { bta: 2 } }, "cache.earlyRefresh.bta")).toContain("did you mean beta?");
    expect(rejects({ ageTtl: { mx: "1h" } }, "cache.ageTtl.mx")).toContain("did you mean max?");
  });

  it("gives no hint for a key that resembles nothing", () => {
    expect(rejects({ persistence: "disk" }, "cache.persistence")).not.toContain("did you mean");
  });

  it("rejects an unknown key even when its value is undefined", () => {
    rejects({ tll: undefined }, "cache.tll");
  });

  it("points a setting written at the wrong level to its home", () => {
    expect(rejects({ capacity: 10 }, "cache.capacity")).toContain("cache.l1.capacity");
    expect(rejects({ beta: 1 }, "cache.beta")).toContain("cache.earlyRefresh.beta");
  });
});

describe("parseCacheSpec name", () => {
  it("defaults to the document name and can be overridden", () => {
    expect(parse({}).name).toBe("products");
    expect(parse({ name: "Shared-Hot:v2.a_b" }).name).toBe("Shared-Hot:v2.a_b");
  });

  it.each(["", "1cache", "_x", "has space", "a/b", "x{y}", "x".repeat(129), 5, null, true])("rejects %j", (name) => {
    rejects({ name }, "cache.name");
  });

  it("accepts 128 characters", () => {
    expect(parse({ name: "x".repeat(128) }).name).toHaveLength(128);
  });
});

describe("parseCacheSpec durations are > 0", () => {
  const bad = [0, -1, "0s", "-1s", "5 minutes", "5", Number.NaN, Number.POSITIVE_INFINITY, "", true];

  it.each([
    ["cache.ttl", (d: unknown) => ({ ttl: d })],
    ["cache.l1.ttl", (d: unknown) => ({ l1: { ttl: d } })],
    ["cache.ageTtl.min", (d: unknown) => ({ ageTtl: { min: d } })],
    ["cache.ageTtl.max", (d: unknown) => ({ ageTtl: { max: d } })],
    ["cache.slidingTtl", (d: unknown) => ({ slidingTtl: d })],
    ["cache.grace", (d: unknown) => ({ grace: d })],
  ] as const)("%s", (path, build) => {
    for (const value of bad) rejects(build(value), path);
  });

  it("grace is off (0) unless given; an explicit 0 is refused rather than silently meaning off", () => {
    expect(parse({}).graceMs).toBe(0);
    expect(parse({ grace: "30s" }).graceMs).toBe(30_000);
    rejects({ grace: 0 }, "cache.grace");
  });
});

describe("parseCacheSpec l1", () => {
  it("requires l1.ttl when l1 is given", () => {
    expect(rejects({ l1: {} }, "cache.l1.ttl")).toContain("required");
    rejects({ l1: { capacity: 10 } }, "cache.l1.ttl");
  });

  it("requires l1.ttl < ttl", () => {
    const message = rejects({ ttl: "5m", l1: { ttl: "5m" } }, "cache.l1.ttl");
    expect(message.startsWith("cache.l1.ttl must be shorter than cache.ttl")).toBe(true);
    rejects({ ttl: "1m", l1: { ttl: "2m" } }, "cache.l1.ttl");
    rejects({ ttl: 1_000, l1: { ttl: "1s" } }, "cache.l1.ttl");
    expect(parse({ ttl: 1_000, l1: { ttl: 999 } }).l1?.ttlMs).toBe(999);
  });

  it("compares l1.ttl against the default ttl when ttl is omitted", () => {
    expect(rejects({ l1: { ttl: "5m" } }, "cache.l1.ttl")).toContain("by default");
    expect(parse({ l1: { ttl: "4m" } }).l1?.ttlMs).toBe(240_000);
  });

  it("requires capacity to be an integer >= 1", () => {
    for (const capacity of [0, -1, 1.5, "10", Number.NaN, Number.POSITIVE_INFINITY, null, 2 ** 53]) {
      rejects({ l1: { ttl: "1s", capacity } }, "cache.l1.capacity");
    }
    expect(parse({ l1: { ttl: "1s", capacity: 1 } }).l1?.capacity).toBe(1);
  });

  it("requires capacity >= 2 for tinylfu", () => {
    expect(rejects({ l1: { ttl: "1s", capacity: 1, policy: "tinylfu" } }, "cache.l1.capacity")).toContain("tinylfu");
    expect(parse({ l1: { ttl: "1s", capacity: 2, policy: "tinylfu" } }).l1?.capacity).toBe(2);
  });

  it("lets a custom factory decide about capacity 1", () => {
    expect(parse({ l1: { ttl: "1s", capacity: 1, policy: factory } }).l1?.capacity).toBe(1);
  });

  it('accepts policy "lru", "tinylfu" or a factory, and nothing else', () => {
    expect(parse({ l1: { ttl: "1s", policy: "lru" } }).l1?.policy).toBe("lru");
    expect(parse({ l1: { ttl: "1s", policy: "tinylfu" } }).l1?.policy).toBe("tinylfu");
    expect(parse({ l1: { ttl: "1s", policy: factory } }).l1?.policy).toBe(factory);
    for (const policy of ["lfu", "LRU", "", 1, null, {}]) rejects({ l1: { ttl: "1s", policy } }, "cache.l1.policy");
  });
});

describe("parseCacheSpec earlyRefresh", () => {
  it("requires beta > 0 and finite", () => {
    for (const beta of [0, -1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, "1", null]) {
      rejects({ earlyRefresh: { beta } }, "cache.earlyRefresh.beta");
    }
    expect(parse({ earlyRefresh: { beta: 0.001 } }).earlyRefresh?.beta).toBe(0.001);
  });

  it("accepts background only inside earlyRefresh", () => {
    expect(parse({ earlyRefresh: { background: true } }).earlyRefresh).toEqual({ beta: 1, background: true });
    expect(rejects({ background: true }, "cache.background")).toContain("cache.earlyRefresh.background");
    rejects({ l1: { ttl: "1s", background: true } }, "cache.l1.background");
    rejects({ ageTtl: { background: true } }, "cache.ageTtl.background");
  });

  it("requires background to be a boolean", () => {
    for (const background of ["yes", 1, null]) {
      rejects({ earlyRefresh: { background } }, "cache.earlyRefresh.background");
    }
  });
});

describe("parseCacheSpec slidingTtl", () => {
  it("requires 0 < slidingTtl < ttl", () => {
    expect(rejects({ ttl: "5m", slidingTtl: "5m" }, "cache.slidingTtl")).toContain("shorter than cache.ttl");
    rejects({ ttl: "5m", slidingTtl: "1h" }, "cache.slidingTtl");
    rejects({ slidingTtl: "5m" }, "cache.slidingTtl");
    rejects({ slidingTtl: 0 }, "cache.slidingTtl");
    expect(parse({ ttl: "1h", slidingTtl: "5m" }).slidingTtlMs).toBe(300_000);
  });
});

describe("parseCacheSpec ageTtl", () => {
  it("requires alpha > 0 and finite", () => {
    for (const alpha of [0, -0.1, Number.NaN, Number.POSITIVE_INFINITY, "0.1", null]) {
      rejects({ ageTtl: { alpha } }, "cache.ageTtl.alpha");
    }
    expect(parse({ ageTtl: { alpha: 2 } }).ageTtl?.alpha).toBe(2);
  });

  it("requires min <= max", () => {
    expect(rejects({ ageTtl: { min: "2m", max: "1m" } }, "cache.ageTtl.min")).toContain("cache.ageTtl.max");
    expect(parse({ ageTtl: { min: "1m", max: "1m" } }).ageTtl).toEqual({ alpha: 0.1, minMs: 60_000, maxMs: 60_000 });
  });

  it("checks min <= max against the defaults too", () => {
    expect(rejects({ ageTtl: { min: "2h" } }, "cache.ageTtl.min")).toContain("default");
    rejects({ ageTtl: { max: "10s" } }, "cache.ageTtl.min");
    expect(parse({ ageTtl: { max: "30s" } }).ageTtl?.maxMs).toBe(30_000);
  });
});

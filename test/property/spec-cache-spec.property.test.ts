import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../src/kernel/errors.js";
import type { L1StoreFactory } from "../../src/l1/l1-store.js";
import { parseCacheSpec } from "../../src/spec/cache-spec.js";
import type { CacheSpec } from "../../src/spec/document-spec.js";

// Generators build a valid input together with the resolved spec it must produce, from first principles
// (not from the parser's own helpers), so a round-trip failure points at the parser.

type Input = Record<string, unknown>;
interface Case {
  readonly input: Input;
  readonly expected: CacheSpec;
}

const DEFAULT_TTL_MS = 300_000;
const DAY_MS = 86_400_000;
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ["ms", 1],
  ["s", 1_000],
  ["m", 60_000],
  ["h", 3_600_000],
  ["d", DAY_MS],
];

/** Every way of writing `ms` exactly: the number, and "<n><unit>" for each unit that divides it. */
function spellings(ms: number): Array<number | string> {
  const out: Array<number | string> = [ms];
  for (const [unit, size] of UNITS) if (ms % size === 0) out.push(`${ms / size}${unit}`);
  return out;
}

/** A duration of `min..max` ms, as [how it is written, its milliseconds]. */
const duration = (min: number, max: number) =>
  fc
    .oneof(
      fc.integer({ min, max }),
      // Round values, so the unit spellings get exercised too.
      fc
        .constantFrom(...UNITS.map(([, size]) => size).filter((size) => Math.ceil(min / size) * size <= max))
        .chain((size) => fc.integer({ min: Math.ceil(min / size), max: Math.floor(max / size) }).map((n) => n * size)),
    )
    .chain((ms) => fc.constantFrom(...spellings(ms)).map((written) => [written, ms] as const));

const factory: L1StoreFactory = () => {
  throw new Error("not called while parsing");
};

const cacheName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_:.-]{0,20}$/);
const positive = fc.double({ min: 1e-6, max: 1e6, noNaN: true });

/** Keeps only the keys whose value is defined, so "absent" really is absent in the input. */
function compact(entries: Record<string, unknown>): Input {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const l1Case = (ttlMs: number) =>
  fc
    .record({
      ttl: duration(1, ttlMs - 1),
      policy: optional(fc.constantFrom<"lru" | "tinylfu" | L1StoreFactory>("lru", "tinylfu", factory)),
      capacity: optional(fc.integer({ min: 2, max: 1_000_000 })),
    })
    .map(({ ttl, policy, capacity }) => ({
      input: compact({ ttl: ttl[0], policy, capacity }),
      expected: { ttlMs: ttl[1], policy: policy ?? "lru", capacity: capacity ?? 1024 },
    }));

const earlyRefreshCase = fc
  .record({ beta: optional(positive), background: optional(fc.boolean()) })
  .map(({ beta, background }) => ({
    input: compact({ beta, background }),
    expected: { beta: beta ?? 1, background: background ?? false },
  }));

const ageTtlCase = fc
  .record({ alpha: optional(positive), min: optional(duration(1, 2 * DAY_MS)), max: optional(duration(1, 2 * DAY_MS)) })
  .map(({ alpha, min, max }) => ({
    input: compact({ alpha, min: min?.[0], max: max?.[0] }),
    expected: { alpha: alpha ?? 0.1, minMs: min?.[1] ?? 30_000, maxMs: max?.[1] ?? 3_600_000 },
  }))
  .filter(({ expected }) => expected.minMs <= expected.maxMs);

const validCase: fc.Arbitrary<Case> = optional(duration(2, 30 * DAY_MS)).chain((ttl) => {
  const ttlMs = ttl?.[1] ?? DEFAULT_TTL_MS;
  return fc
    .record({
      name: optional(cacheName),
      l1: optional(l1Case(ttlMs)),
      earlyRefresh: optional(earlyRefreshCase),
      ageTtl: optional(ageTtlCase),
      slidingTtl: optional(duration(1, ttlMs - 1)),
      grace: optional(duration(1, 365 * DAY_MS)),
    })
    .map(
      (parts): Case => ({
        input: compact({
          name: parts.name,
          ttl: ttl?.[0],
          l1: parts.l1?.input,
          earlyRefresh: parts.earlyRefresh?.input,
          ageTtl: parts.ageTtl?.input,
          slidingTtl: parts.slidingTtl?.[0],
          grace: parts.grace?.[0],
        }),
        expected: {
          name: parts.name ?? "products",
          ttlMs,
          l1: parts.l1?.expected,
          earlyRefresh: parts.earlyRefresh?.expected,
          ageTtl: parts.ageTtl?.expected,
          slidingTtlMs: parts.slidingTtl?.[1],
          graceMs: parts.grace?.[1] ?? 0,
        },
      }),
    );
});

/** A mutation that makes any valid case invalid, and the path the error must name. */
interface Mutation {
  readonly label: string;
  readonly path: string;
  apply(input: Input, expected: CacheSpec): Input;
}

const BAD_DURATIONS: ReadonlyArray<unknown> = [0, -5, "0s", "-1s", "5 minutes", "", "5", "1.5.m", "1 h", Number.NaN];
const DURATION_PATHS = ["ttl", "slidingTtl", "grace", "l1.ttl", "ageTtl.min", "ageTtl.max"] as const;
const WRONG_TYPES: ReadonlyArray<readonly [string, unknown]> = [
  ["name", 42],
  ["ttl", true],
  ["l1", "2s"],
  ["l1.capacity", "10"],
  ["l1.policy", 3],
  ["earlyRefresh", true],
  ["earlyRefresh.beta", "1"],
  ["earlyRefresh.background", "yes"],
  ["ageTtl.alpha", "0.1"],
];

/** Sets `path` (one or two levels deep) in a copy of `input`, creating a valid parent when needed. */
function setPath(input: Input, path: string, value: unknown, expected: CacheSpec): Input {
  const [head, leaf] = path.split(".") as [string, string | undefined];
  if (leaf === undefined) return { ...input, [head]: value };
  const parent = (input[head] as Input | undefined) ?? defaultParent(head, expected);
  return { ...input, [head]: { ...parent, [leaf]: value } };
}

function defaultParent(head: string, expected: CacheSpec): Input {
  // A valid l1 needs a ttl below the effective cache ttl (which is at least 2ms).
  return head === "l1" ? { ttl: expected.ttlMs - 1 } : {};
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .tuple(fc.constantFrom("", "l1.", "earlyRefresh.", "ageTtl."), fc.constantFrom("tll", "extra", "Ttl", "maxAge"))
    .map(([prefix, key]) => ({
      label: `unknown key ${prefix}${key}`,
      path: `cache.${prefix}${key}`,
      apply: (input: Input, expected: CacheSpec) =>
        setPath(input, `${prefix}${key}`, prefix === "" ? "5m" : undefined, expected),
    })),
  fc.constant<Mutation>({
    label: "background outside earlyRefresh",
    path: "cache.background",
    apply: (input) => ({ ...input, background: true }),
  }),
  fc.tuple(fc.constantFrom(...DURATION_PATHS), fc.constantFrom(...BAD_DURATIONS)).map(([path, value]) => ({
    label: `bad duration ${path} = ${String(value)}`,
    path: `cache.${path}`,
    apply: (input: Input, expected: CacheSpec) => setPath(input, path, value, expected),
  })),
  fc.nat({ max: 10 * DAY_MS }).map((extra) => ({
    label: `l1.ttl >= ttl by ${extra}ms`,
    path: "cache.l1.ttl",
    apply: (input: Input, expected: CacheSpec) => setPath(input, "l1.ttl", expected.ttlMs + extra, expected),
  })),
  fc.nat({ max: 10 * DAY_MS }).map((extra) => ({
    label: `slidingTtl >= ttl by ${extra}ms`,
    path: "cache.slidingTtl",
    apply: (input: Input, expected: CacheSpec) => ({ ...input, slidingTtl: expected.ttlMs + extra }),
  })),
  fc.constantFrom(0, -1, -1024).map((capacity) => ({
    label: `capacity ${capacity}`,
    path: "cache.l1.capacity",
    apply: (input: Input, expected: CacheSpec) => setPath(input, "l1.capacity", capacity, expected),
  })),
  fc.constant<Mutation>({
    label: "capacity 1 with tinylfu",
    path: "cache.l1.capacity",
    apply: (input, expected) => {
      const l1 = setPath(input, "l1.capacity", 1, expected).l1 as Input;
      return { ...input, l1: { ...l1, policy: "tinylfu" } };
    },
  }),
  fc.constantFrom(0, -0.5, -1e9).map((beta) => ({
    label: `beta ${beta}`,
    path: "cache.earlyRefresh.beta",
    apply: (input: Input, expected: CacheSpec) => setPath(input, "earlyRefresh.beta", beta, expected),
  })),
  fc.constantFrom(0, -0.1).map((alpha) => ({
    label: `alpha ${alpha}`,
    path: "cache.ageTtl.alpha",
    apply: (input: Input, expected: CacheSpec) => setPath(input, "ageTtl.alpha", alpha, expected),
  })),
  fc.tuple(fc.integer({ min: 1, max: DAY_MS }), fc.integer({ min: 1, max: DAY_MS })).map(([max, gap]) => ({
    label: `ageTtl min ${max + gap} > max ${max}`,
    path: "cache.ageTtl.min",
    apply: (input: Input, expected: CacheSpec) => {
      const withMax = setPath(input, "ageTtl.max", max, expected);
      return setPath(withMax, "ageTtl.min", max + gap, expected);
    },
  })),
  fc.constantFrom(...WRONG_TYPES).map(([path, value]) => ({
    label: `wrong type ${path} = ${JSON.stringify(value)}`,
    path: `cache.${path}`,
    apply: (input: Input, expected: CacheSpec) => setPath(input, path, value, expected),
  })),
);

describe("parseCacheSpec (properties)", () => {
  it("parses every valid spec and resolves it to the input's milliseconds and the defaults", () => {
    fc.assert(
      fc.property(validCase, ({ input, expected }) => {
        const spec = parseCacheSpec(input, "products");
        expect(spec).toEqual(expected);
        expect(Object.isFrozen(spec)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses every invalidated spec with a ConfigurationError at the mutated path", () => {
    fc.assert(
      fc.property(validCase, mutation, ({ input, expected }, mutate) => {
        const broken = mutate.apply(input, expected);
        let caught: unknown;
        try {
          parseCacheSpec(broken, "products");
        } catch (error) {
          caught = error;
        }
        expect(caught, mutate.label).toBeInstanceOf(ConfigurationError);
        const error = caught as ConfigurationError;
        expect(error.code).toBe("CONFIGURATION");
        expect(error.path, mutate.label).toBe(mutate.path);
        expect(error.message.startsWith(`${mutate.path} `)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });
});

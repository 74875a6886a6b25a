import { describeValue, expectConfigObject, rejectUnknownKeys } from "../kernel/config-object.js";
import { formatDuration, parseDuration } from "../kernel/duration.js";
import { ConfigurationError } from "../kernel/errors.js";
import { checkL1Capacity } from "../l1/l1-capacity.js";
import type { L1PolicyName, L1StoreFactory } from "../l1/l1-store.js";
import { checkCacheName } from "./cache-name.js";
import type { CacheSpec, L1Spec, LeaseSpec } from "./document-spec.js";

/** What an omitted setting resolves to. Durations are in the user's notation; see `parseCacheSpec`. */
export const CACHE_SPEC_DEFAULTS = Object.freeze({
  ttl: "5m",
  l1: Object.freeze({ capacity: 1024, policy: "lru" }),
  earlyRefresh: Object.freeze({ beta: 1, background: false }),
  ageTtl: Object.freeze({ alpha: 0.1, min: "30s", max: "1h" }),
  lease: Object.freeze({ maxWait: "2s", ttl: "5s" }),
} as const);

const L1_POLICIES: ReadonlyArray<L1PolicyName> = ["lru", "tinylfu"];

const KEYS = ["name", "ttl", "l1", "earlyRefresh", "ageTtl", "slidingTtl", "grace", "lease"] as const;
const L1_KEYS = ["ttl", "capacity", "policy"] as const;
const EARLY_REFRESH_KEYS = ["beta", "background"] as const;
const AGE_TTL_KEYS = ["alpha", "min", "max"] as const;
const LEASE_KEYS = ["maxWait", "ttl"] as const;

// Settings written one level too high get pointed at their home rather than a generic "unknown key".
// This is also how "background requires earlyRefresh" is enforced: it exists nowhere else.
const RELOCATED: Readonly<Record<string, string>> = {
  capacity: "cache.l1.capacity",
  policy: "cache.l1.policy",
  beta: "cache.earlyRefresh.beta",
  background: "cache.earlyRefresh.background",
  alpha: "cache.ageTtl.alpha",
  min: "cache.ageTtl.min",
  max: "cache.ageTtl.max",
  maxWait: "cache.lease.maxWait",
};

/**
 * Validates what a user wrote in `defineDocument({ cache })` and resolves it: every duration in
 * milliseconds, every default applied, the result deep-frozen. `documentName` is the default cache name
 * (the caller has already validated it). Throws a ConfigurationError whose message starts with the
 * offending path (`cache.l1.capacity …`) on the first problem found. A key set to `undefined` counts as
 * absent, so spreading optional settings from elsewhere is safe; an unknown key is refused even then.
 */
export function parseCacheSpec(input: unknown, documentName: string): CacheSpec {
  const spec = expectConfigObject(input, "cache", '{ ttl: "5m" } (use {} for the defaults)');
  rejectUnknownKeys(spec, KEYS, "cache", RELOCATED);

  const name = spec.name === undefined ? documentName : checkCacheName(spec.name, "cache.name");
  const ttlMs = parseDuration(spec.ttl ?? CACHE_SPEC_DEFAULTS.ttl, "cache.ttl");
  const ttl = { ms: ttlMs, defaulted: spec.ttl === undefined };
  const l1 = spec.l1 === undefined ? undefined : parseL1(spec.l1, ttl);
  const earlyRefresh = spec.earlyRefresh === undefined ? undefined : parseEarlyRefresh(spec.earlyRefresh);
  const ageTtl = spec.ageTtl === undefined ? undefined : parseAgeTtl(spec.ageTtl);

  let slidingTtlMs: number | undefined;
  if (spec.slidingTtl !== undefined) {
    slidingTtlMs = parseDuration(spec.slidingTtl, "cache.slidingTtl");
    // An idle window as long as the absolute lifetime would never extend anything.
    requireShorter(slidingTtlMs, ttl, "cache.slidingTtl");
  }
  // Grace is off unless given; given, it must be a real window (omit it rather than writing 0).
  const graceMs = spec.grace === undefined ? 0 : parseDuration(spec.grace, "cache.grace");

  const lease = spec.lease === undefined || spec.lease === false ? undefined : parseLease(spec.lease);

  return Object.freeze({ name, ttlMs, l1, earlyRefresh, ageTtl, slidingTtlMs, graceMs, lease });
}

/** `lease: true` (the defaults) or `{ maxWait, ttl }`; `false` is off, like omitting it. */
function parseLease(value: unknown): LeaseSpec {
  const defaults = CACHE_SPEC_DEFAULTS.lease;
  if (value === true) {
    return Object.freeze({
      maxWaitMs: parseDuration(defaults.maxWait, "cache.lease.maxWait"),
      ttlMs: parseDuration(defaults.ttl, "cache.lease.ttl"),
    });
  }
  const lease = expectConfigObject(value, "cache.lease", 'true, or { maxWait: "2s", ttl: "5s" }');
  rejectUnknownKeys(lease, LEASE_KEYS, "cache.lease");
  const maxWaitMs = parseDuration(lease.maxWait ?? defaults.maxWait, "cache.lease.maxWait");
  const ttlMs = parseDuration(lease.ttl ?? defaults.ttl, "cache.lease.ttl");
  return Object.freeze({ maxWaitMs, ttlMs });
}

function parseL1(value: unknown, ttl: ResolvedTtl): L1Spec {
  const l1 = expectConfigObject(value, "cache.l1", '{ ttl: "2s", capacity: 1024 }');
  rejectUnknownKeys(l1, L1_KEYS, "cache.l1");

  // No default: the L1 lifetime is the cross-replica staleness budget, a choice only the user can make.
  if (l1.ttl === undefined) {
    throw new ConfigurationError(
      "cache.l1.ttl",
      "is required when cache.l1 is set (it bounds cross-replica staleness)",
    );
  }
  const l1TtlMs = parseDuration(l1.ttl, "cache.l1.ttl");
  requireShorter(l1TtlMs, ttl, "cache.l1.ttl");

  const policy = parsePolicy(l1.policy);
  const capacity = parseCapacity(l1.capacity, policy);
  return Object.freeze({ ttlMs: l1TtlMs, capacity, policy });
}

function parsePolicy(value: unknown): L1PolicyName | L1StoreFactory {
  if (value === undefined) return CACHE_SPEC_DEFAULTS.l1.policy;
  if (typeof value === "function") return value as L1StoreFactory;
  if (typeof value === "string" && (L1_POLICIES as ReadonlyArray<string>).includes(value)) {
    return value as L1PolicyName;
  }
  throw new ConfigurationError(
    "cache.l1.policy",
    `must be "lru", "tinylfu" or a store factory function (got ${describeValue(value)})`,
  );
}

function parseCapacity(value: unknown, policy: L1PolicyName | L1StoreFactory): number {
  if (value === undefined) return CACHE_SPEC_DEFAULTS.l1.capacity;
  return checkL1Capacity(value, typeof policy === "function" ? "custom" : policy, "cache.l1.capacity");
}

function parseEarlyRefresh(value: unknown): NonNullable<CacheSpec["earlyRefresh"]> {
  const earlyRefresh = expectConfigObject(value, "cache.earlyRefresh", "{ beta: 1 } (use {} for the defaults)");
  rejectUnknownKeys(earlyRefresh, EARLY_REFRESH_KEYS, "cache.earlyRefresh");

  const beta = positiveNumber(earlyRefresh.beta, CACHE_SPEC_DEFAULTS.earlyRefresh.beta, "cache.earlyRefresh.beta");
  let background: boolean = CACHE_SPEC_DEFAULTS.earlyRefresh.background;
  if (earlyRefresh.background !== undefined) {
    if (typeof earlyRefresh.background !== "boolean") {
      throw new ConfigurationError(
        "cache.earlyRefresh.background",
        `must be a boolean (got ${describeValue(earlyRefresh.background)})`,
      );
    }
    background = earlyRefresh.background;
  }
  return Object.freeze({ beta, background });
}

function parseAgeTtl(value: unknown): NonNullable<CacheSpec["ageTtl"]> {
  const ageTtl = expectConfigObject(value, "cache.ageTtl", '{ alpha: 0.1, min: "30s", max: "1h" }');
  rejectUnknownKeys(ageTtl, AGE_TTL_KEYS, "cache.ageTtl");

  const defaults = CACHE_SPEC_DEFAULTS.ageTtl;
  const alpha = positiveNumber(ageTtl.alpha, defaults.alpha, "cache.ageTtl.alpha");
  const minMs = parseDuration(ageTtl.min ?? defaults.min, "cache.ageTtl.min");
  const maxMs = parseDuration(ageTtl.max ?? defaults.max, "cache.ageTtl.max");
  if (minMs > maxMs) {
    // Name the defaulted side, or "min 2h" alone would be a puzzling error.
    const defaulted =
      ageTtl.min === undefined ? ", min is the default" : ageTtl.max === undefined ? ", max is the default" : "";
    throw new ConfigurationError(
      "cache.ageTtl.min",
      `must not exceed cache.ageTtl.max (got ${formatDuration(minMs)} > ${formatDuration(maxMs)}${defaulted})`,
    );
  }
  return Object.freeze({ alpha, minMs, maxMs });
}

function positiveNumber(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new ConfigurationError(path, `must be a number (got ${describeValue(value)})`);
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(path, `must be a finite number greater than 0 (got ${describeValue(value)})`);
  }
  return value;
}

interface ResolvedTtl {
  readonly ms: number;
  readonly defaulted: boolean;
}

function requireShorter(ms: number, ttl: ResolvedTtl, path: string): void {
  if (ms >= ttl.ms) {
    const note = ttl.defaulted ? " by default" : "";
    throw new ConfigurationError(
      path,
      `must be shorter than cache.ttl (got ${formatDuration(ms)}, cache.ttl is ${formatDuration(ttl.ms)}${note})`,
    );
  }
}

import { checkKnownKeys, checkObject } from "../../kernel/check-options.js";
import { describeValue } from "../../kernel/config-object.js";
import type { Duration } from "../../kernel/duration.js";
import { parseDuration } from "../../kernel/duration.js";
import { ConfigurationError } from "../../kernel/errors.js";
import { checkL1Capacity } from "../../l1/l1-capacity.js";
import type { L1PolicyName } from "../../l1/l1-store.js";
import type { LeaseSpec } from "../../spec/document-spec.js";

/** The opt-in L1 of a key/value cache route (the cache API): `l1` of redisModule / memoryCacheModule caches. */
export interface KvL1Options {
  /**
   * Longest an L1 copy is served. With `invalidationPush` (Redis) a write anywhere drops every copy at once and this
   * only bounds a lost channel; without push it is the cross-replica staleness budget.
   */
  readonly ttl: Duration;
  /**
   * Most entries held.
   * @default 1024
   */
  readonly capacity?: number;
  /**
   * Eviction policy.
   * @default "lru"
   */
  readonly policy?: L1PolicyName;
}

/** The fill lease of a key/value cache route's `getOrSet` (`lease` of redisModule / memoryCacheModule caches). */
export interface KvLeaseOptions {
  /**
   * Longest a `getOrSet` waits for another process's fill before serving grace data or running its loader itself.
   * @default "2s"
   */
  readonly maxWait?: Duration;
  /**
   * A lease's longest life, and its life until loader times were observed (then about 3× their p99, at least
   * 100 ms); a holder renews it while its loader runs, and a dead holder's lease lapses after it.
   * @default "5s"
   */
  readonly ttl?: Duration;
}

/** A route's settings for the cache API, checked. */
export interface KvRouteSettings {
  /** Default lifetime of `cache(name)` writes (undefined: 5 minutes). */
  readonly ttlMs: number | undefined;
  readonly l1: { readonly ttlMs: number; readonly capacity: number; readonly policy: L1PolicyName } | undefined;
  /** getOrSet's fill lease when the route turns it on (`lease: true | { maxWait, ttl }`), else undefined. */
  readonly lease?: LeaseSpec | undefined;
}

export const KV_ROUTE_KEYS = ["ttl", "l1", "lease"] as const;

/** The lease of a route whose calls did not ask (`lease: true` on a call then uses these: maxWait 2 s, ttl 5 s). */
export const DEFAULT_KV_LEASE: LeaseSpec = Object.freeze({ maxWaitMs: 2_000, ttlMs: 5_000 });

/** Checks a route's `lease`: `true`, `false`, or `{ maxWait, ttl }`. */
function checkKvLease(value: unknown, path: string): LeaseSpec | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_KV_LEASE;
  const lease = checkObject(value, path);
  checkKnownKeys(lease, ["maxWait", "ttl"], path);
  return Object.freeze({
    maxWaitMs:
      lease.maxWait === undefined ? DEFAULT_KV_LEASE.maxWaitMs : parseDuration(lease.maxWait, `${path}.maxWait`),
    ttlMs: lease.ttl === undefined ? DEFAULT_KV_LEASE.ttlMs : parseDuration(lease.ttl, `${path}.ttl`),
  });
}

/** Checks the `ttl`, `l1` and `lease` of a cache route (ConfigurationError naming `<path>.ttl`, `<path>.l1.capacity`…). */
export function checkKvRoute(cache: Record<string, unknown>, path: string): KvRouteSettings {
  const ttlMs = cache.ttl === undefined ? undefined : parseDuration(cache.ttl, `${path}.ttl`);
  const lease = checkKvLease(cache.lease, `${path}.lease`);
  if (cache.l1 === undefined) return { ttlMs, l1: undefined, lease };
  const l1 = checkObject(cache.l1, `${path}.l1`);
  checkKnownKeys(l1, ["ttl", "capacity", "policy"], `${path}.l1`);
  if (l1.ttl === undefined) {
    throw new ConfigurationError(`${path}.l1.ttl`, "is required when l1 is set (it bounds how long a copy is served)");
  }
  const policy = l1.policy ?? "lru";
  if (policy !== "lru" && policy !== "tinylfu") {
    throw new ConfigurationError(`${path}.l1.policy`, `must be "lru" or "tinylfu" (got ${describeValue(policy)})`);
  }
  return {
    ttlMs,
    lease,
    l1: {
      ttlMs: parseDuration(l1.ttl, `${path}.l1.ttl`),
      capacity: l1.capacity === undefined ? 1024 : checkL1Capacity(l1.capacity, policy, `${path}.l1.capacity`),
      policy,
    },
  };
}

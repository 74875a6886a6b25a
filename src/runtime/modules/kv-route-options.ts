import { checkKnownKeys, checkObject } from "../../kernel/check-options.js";
import { describeValue } from "../../kernel/config-object.js";
import type { Duration } from "../../kernel/duration.js";
import { parseDuration } from "../../kernel/duration.js";
import { ConfigurationError } from "../../kernel/errors.js";
import { checkL1Capacity } from "../../l1/l1-capacity.js";
import type { L1PolicyName } from "../../l1/l1-store.js";

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

/** A route's settings for the cache API, checked. */
export interface KvRouteSettings {
  /** Default lifetime of `cache(name)` writes (undefined: 5 minutes). */
  readonly ttlMs: number | undefined;
  readonly l1: { readonly ttlMs: number; readonly capacity: number; readonly policy: L1PolicyName } | undefined;
}

export const KV_ROUTE_KEYS = ["ttl", "l1"] as const;

/** Checks the `ttl` and `l1` of a cache route (ConfigurationError naming `<path>.ttl`, `<path>.l1.capacity`…). */
export function checkKvRoute(cache: Record<string, unknown>, path: string): KvRouteSettings {
  const ttlMs = cache.ttl === undefined ? undefined : parseDuration(cache.ttl, `${path}.ttl`);
  if (cache.l1 === undefined) return { ttlMs, l1: undefined };
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
    l1: {
      ttlMs: parseDuration(l1.ttl, `${path}.l1.ttl`),
      capacity: l1.capacity === undefined ? 1024 : checkL1Capacity(l1.capacity, policy, `${path}.l1.capacity`),
      policy,
    },
  };
}

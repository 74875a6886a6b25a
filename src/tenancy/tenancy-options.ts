import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";

/**
 * How a cache route keeps tenants apart in L2 (`caches.<name>.tenancy`), for tenant contexts
 * (`runtime.context({ tenant })`):
 * - `"tagged"` (default): one namespace; every key carries the tenant (`<fingerprint>@<tenant>`, `kv@<tenant>`), and
 *   so do the envelope header and the sealing's associated data. Push invalidation works as for the route.
 * - `{ namespace: (tenant) => string }`: each tenant in its own namespace. Push reaches a tenant's L1 only when its
 *   namespace starts with the route's `namespace + ":"` (the tracked prefix); otherwise its L1 is bounded by `l1.ttl`.
 * - `{ dedicated: (tenant) => string }` (redisModule only): each tenant on its own Redis, given by a `redis://` url,
 *   connected on first use and closed on stop(). Push does not reach those connections: the tenant's L1 is bounded by
 *   `l1.ttl` (TTL-only).
 */
export type TenancyOption =
  | "tagged"
  | {
      /** The namespace of `tenant`'s data (a valid namespace no other route uses). */
      readonly namespace: (tenant: string) => string;
    }
  | {
      /** The `redis://` url of `tenant`'s own Redis. */
      readonly dedicated: (tenant: string) => string;
    };

/** The parsed tier. */
export type Tenancy =
  | { readonly tier: "tagged" }
  | { readonly tier: "namespace"; readonly resolve: (tenant: string) => string }
  | { readonly tier: "dedicated"; readonly resolve: (tenant: string) => string };

export const TAGGED: Tenancy = { tier: "tagged" };

/** Parses `tenancy`; `allowDedicated` is false for the in-process store. */
export function parseTenancy(value: unknown, path: string, allowDedicated: boolean): Tenancy {
  if (value === undefined || value === "tagged") return TAGGED;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value);
    const opts = value as Record<string, unknown>;
    if (keys.length === 1 && typeof opts.namespace === "function") {
      return { tier: "namespace", resolve: opts.namespace as (tenant: string) => string };
    }
    if (keys.length === 1 && typeof opts.dedicated === "function") {
      if (!allowDedicated) throw new ConfigurationError(`${path}.dedicated`, "needs a Redis route (redisModule)");
      return { tier: "dedicated", resolve: opts.dedicated as (tenant: string) => string };
    }
  }
  throw new ConfigurationError(
    path,
    `must be "tagged", { namespace: (tenant) => string } or { dedicated: (tenant) => url } (got ${describeValue(value)})`,
  );
}

import { MemoryCoordination } from "../../coordination/memory/memory-coordination.js";
import { checkKnownKeys, checkNamespace, checkObject, checkPositiveInt } from "../../kernel/check-options.js";
import type { Duration } from "../../kernel/duration.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { MemoryRouteExtras } from "../../l2/memory/memory-cache-backend.js";
import { MemoryCacheBackend } from "../../l2/memory/memory-cache-backend.js";
import type { SealingOptions } from "../../sealing/sealing-options.js";
import { parseSealing } from "../../sealing/sealing-options.js";
import { checkCacheName } from "../../spec/cache-name.js";
import { parseTenancy } from "../../tenancy/tenancy-options.js";
import type { CacheModule, ModuleEnv } from "../module.js";
import type { KvL1Options, KvLeaseOptions, KvRouteSettings } from "./kv-route-options.js";
import { checkKvRoute, KV_ROUTE_KEYS } from "./kv-route-options.js";

/** One cache route of memoryCacheModule. */
export interface MemoryCacheOptions extends SealingOptions {
  /**
   * Key prefix, as with Redis; two routes of one module may not overlap.
   * @default the cache name
   */
  readonly namespace?: string;
  /**
   * Largest value stored, in bytes once encoded: a bigger key/value set is a ValidationError (nothing written); a
   * bigger document body is not cached (served from Postgres, counted in `source.tooLarge`).
   * @default 1048576 (1 MiB)
   */
  readonly maxValueBytes?: number;
  /**
   * Default lifetime of the cache API's writes to this cache (`runtime.cache(name).set(…)` without a ttl).
   * @default "5m"
   */
  readonly ttl?: Duration;
  /** Opt-in L1 of the cache API for this cache (copies in the process, bounded by `l1.ttl`). */
  readonly l1?: KvL1Options;
  /**
   * The distributed fill lease of the cache API's `getOrSet` (README "Fill leases"): on a miss one caller across
   * every replica runs the loader; the others wait for its fill (in one process (the in-process store is not shared), so it only matters for tests), at most `maxWait`, then serve grace data or
   * run the loader themselves. A call's `lease` option overrides it. Costs one script instead of a read on every
   * L2 lookup of getOrSet (none on an L1 hit).
   * @default false
   */
  readonly lease?: boolean | KvLeaseOptions;
  /**
   * How tenant contexts are kept apart: `"tagged"` (the tenant in every key) or `{ namespace: (tenant) => string }`
   * (a namespace per tenant). See README "Multi-tenant".
   * @default "tagged"
   */
  readonly tenancy?:
    | "tagged"
    | {
        /** The namespace of `tenant`'s data (a valid namespace no other route uses). */
        readonly namespace: (tenant: string) => string;
      };
}

/** Options of memoryCacheModule. Checked at once: an unknown or bad one throws ConfigurationError naming it. */
export interface MemoryCacheModuleOptions {
  /** Cache name (`CacheSpec.name`) → its route; at least one. */
  readonly caches: Readonly<Record<string, MemoryCacheOptions>>;
  /**
   * Bound on stored keys across all namespaces (entries, tombstones, version floors, `kv` keys); past it the least
   * recently written key goes (reads do not refresh it).
   * @default 100000
   */
  readonly maxEntries?: number;
}

/**
 * An in-process L2 with Redis' semantics, for a single process and for tests: other replicas cannot see it.
 * Options are validated now; the store opens at `runtime.start()`.
 *
 * @example
 * ```ts
 * import { createRuntime, memoryCacheModule, postgresModule } from "stratacache";
 *
 * const runtime = createRuntime({
 *   modules: [
 *     postgresModule({ pglite: true, documents: { products: {} } }),
 *     memoryCacheModule({ caches: { products: {} }, maxEntries: 10_000 }),
 *   ],
 * });
 * await runtime.start();
 * await runtime.context().cache("products").set("greeting", "hello");
 * await runtime.stop();
 * ```
 */
export function memoryCacheModule(options: MemoryCacheModuleOptions): CacheModule {
  const opts = checkObject(options, "memoryCacheModule");
  checkKnownKeys(opts, ["caches", "maxEntries"], "memoryCacheModule");
  const maxEntries =
    opts.maxEntries === undefined ? 100_000 : checkPositiveInt(opts.maxEntries, "memoryCacheModule.maxEntries");
  const routes = new Map<string, string>();
  const maxValueBytes = new Map<string, number>();
  const kvRoutes = new Map<string, KvRouteSettings>();
  const extras = new Map<string, MemoryRouteExtras>();
  for (const [name, value] of Object.entries(checkObject(opts.caches, "memoryCacheModule.caches"))) {
    const path = `memoryCacheModule.caches.${name}`;
    checkCacheName(name, path);
    const cache = checkObject(value, path);
    checkKnownKeys(
      cache,
      ["namespace", "maxValueBytes", "encryption", "compression", "tenancy", ...KV_ROUTE_KEYS],
      path,
    );
    kvRoutes.set(name, checkKvRoute(cache, path));
    extras.set(name, {
      sealing: parseSealing(cache, path),
      tenancy: parseTenancy(cache.tenancy, `${path}.tenancy`, false),
    });
    if (cache.maxValueBytes !== undefined) {
      maxValueBytes.set(name, checkPositiveInt(cache.maxValueBytes, `${path}.maxValueBytes`));
    }
    routes.set(name, cache.namespace === undefined ? name : checkNamespace(cache.namespace, `${path}.namespace`));
  }
  if (routes.size === 0) throw new ConfigurationError("memoryCacheModule.caches", "must route at least one cache");
  // Each module opens its own keyspace: only its own routes can collide.
  const location = {};
  return {
    kind: "cache",
    names: [...routes.keys()],
    namespaces: [...routes].map(([cache, namespace]) => ({ module: "memoryCacheModule", location, cache, namespace })),
    kvRoutes,
    async open(env: ModuleEnv) {
      const coordination = new Map(
        [...routes.keys()].map((name) => [name, new MemoryCoordination(env.clock)] as const),
      );
      return {
        backend: new MemoryCacheBackend(routes, env.clock, maxEntries, maxValueBytes, extras),
        coordination: (name: string) => coordination.get(name),
      };
    },
  };
}

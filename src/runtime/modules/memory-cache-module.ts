import { checkKnownKeys, checkNamespace, checkObject, checkPositiveInt } from "../../kernel/check-options.js";
import { ConfigurationError } from "../../kernel/errors.js";
import { MemoryCacheBackend } from "../../l2/memory/memory-cache-backend.js";
import { checkCacheName } from "../../spec/cache-name.js";
import type { CacheModule, ModuleEnv } from "../module.js";

export interface MemoryCacheOptions {
  /** Key prefix, as with Redis (default: the cache name). */
  readonly namespace?: string;
  /** Largest key/value value accepted, in bytes once encoded (default 1 MiB); a bigger set is a ValidationError. */
  readonly maxValueBytes?: number;
}

export interface MemoryCacheModuleOptions {
  readonly caches: Readonly<Record<string, MemoryCacheOptions>>;
  /** Bound on stored keys across all namespaces (default 100,000; oldest-written evicted first). */
  readonly maxEntries?: number;
}

/** An in-process L2 (one process only: other replicas cannot see it). */
export function memoryCacheModule(options: MemoryCacheModuleOptions): CacheModule {
  const opts = checkObject(options, "memoryCacheModule");
  checkKnownKeys(opts, ["caches", "maxEntries"], "memoryCacheModule");
  const maxEntries =
    opts.maxEntries === undefined ? 100_000 : checkPositiveInt(opts.maxEntries, "memoryCacheModule.maxEntries");
  const routes = new Map<string, string>();
  const maxValueBytes = new Map<string, number>();
  for (const [name, value] of Object.entries(checkObject(opts.caches, "memoryCacheModule.caches"))) {
    const path = `memoryCacheModule.caches.${name}`;
    checkCacheName(name, path);
    const cache = checkObject(value, path);
    checkKnownKeys(cache, ["namespace", "maxValueBytes"], path);
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
    async open(env: ModuleEnv) {
      return { backend: new MemoryCacheBackend(routes, env.clock, maxEntries, maxValueBytes) };
    },
  };
}

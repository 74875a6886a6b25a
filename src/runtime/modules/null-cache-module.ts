import { checkKnownKeys, checkNamespace, checkObject } from "../../kernel/check-options.js";
import { ConfigurationError } from "../../kernel/errors.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../../l2/kv-input.js";
import { NullCacheBackend } from "../../l2/null/null-cache-backend.js";
import { checkCacheName } from "../../spec/cache-name.js";
import type { CacheModule } from "../module.js";

/** One cache route of nullCacheModule. */
export interface NullCacheOptions {
  /**
   * Only for symmetry with the other modules (nothing is stored).
   * @default the cache name
   */
  readonly namespace?: string;
}

/** Options of nullCacheModule. */
export interface NullCacheModuleOptions {
  /** Cache name → its route; at least one. */
  readonly caches: Readonly<Record<string, NullCacheOptions>>;
}

/**
 * A cache module that stores nothing: every read misses, every write succeeds and is dropped (input is still
 * checked). For tests of code that must work without a cache, and to switch a cache off by configuration.
 *
 * @example
 * ```ts
 * import { createRuntime, nullCacheModule } from "stratacache";
 *
 * const runtime = createRuntime({ modules: [nullCacheModule({ caches: { sessions: {} } })] });
 * await runtime.start();
 * await runtime.cache("sessions").set("k", 1);
 * await runtime.cache("sessions").get("k"); // undefined
 * await runtime.stop();
 * ```
 */
export function nullCacheModule(options: NullCacheModuleOptions): CacheModule {
  const opts = checkObject(options, "nullCacheModule");
  checkKnownKeys(opts, ["caches"], "nullCacheModule");
  const routes = new Map<string, string>();
  for (const [name, value] of Object.entries(checkObject(opts.caches, "nullCacheModule.caches"))) {
    const path = `nullCacheModule.caches.${name}`;
    checkCacheName(name, path);
    const cache = checkObject(value, path);
    checkKnownKeys(cache, ["namespace"], path);
    routes.set(name, cache.namespace === undefined ? name : checkNamespace(cache.namespace, `${path}.namespace`));
  }
  if (routes.size === 0) throw new ConfigurationError("nullCacheModule.caches", "must route at least one cache");
  const location = {};
  return {
    kind: "cache",
    names: [...routes.keys()],
    namespaces: [...routes].map(([cache, namespace]) => ({ module: "nullCacheModule", location, cache, namespace })),
    async open() {
      return { backend: new NullCacheBackend(routes, DEFAULT_MAX_VALUE_BYTES) };
    },
  };
}

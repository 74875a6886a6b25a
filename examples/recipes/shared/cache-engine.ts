/**
 * The cache API recipes need no Postgres: a Redis at REDIS_URL when set (namespaces under `recipes:<name>:<pid>`,
 * removed at the end), else the in-process store.
 */
import type { MemoryCacheOptions, RedisCacheOptions, RuntimeModule } from "../../../src/index.js";
import { memoryCacheModule, redisModule } from "../../../src/index.js";
import { deleteNamespaces, redact } from "./engines.js";

export interface CacheEngine {
  /** "Redis at …" or "in-process store". */
  readonly label: string;
  /** One cache module routing every cache of `caches` under the recipe's prefix. */
  module(caches: Record<string, Omit<RedisCacheOptions, "namespace">>): RuntimeModule;
  /** Removes every key the recipe wrote (Redis only). */
  cleanup(): Promise<void>;
}

export function cacheEngine(recipe: string): CacheEngine {
  const url = process.env.REDIS_URL;
  const prefix = `recipes:${recipe}:${process.pid}`;
  const namespaces: string[] = [];
  return {
    label: url ? `Redis at ${redact(url)}` : "in-process store",
    module(caches) {
      const routes: Record<string, RedisCacheOptions> = {};
      for (const [name, options] of Object.entries(caches)) {
        routes[name] = { namespace: `${prefix}:${name}`, ...options };
        namespaces.push(`${prefix}:${name}`);
      }
      // A generous timeout: the counters recipe sends 1,000 scripts at once to a server that may be busy.
      if (url) return redisModule({ url, caches: routes, timeoutMs: 2_000 });
      const memory: Record<string, MemoryCacheOptions> = {};
      for (const [name, { invalidationPush: _push, tenancy, ...rest }] of Object.entries(routes)) {
        // The in-process store has no dedicated tier (there is no per-tenant connection to make).
        if (tenancy !== undefined && typeof tenancy !== "string" && "dedicated" in tenancy) {
          throw new Error(`cache ${name}: the dedicated tenancy tier needs Redis`);
        }
        memory[name] = { ...rest, tenancy };
      }
      return memoryCacheModule({ caches: memory });
    },
    async cleanup() {
      if (url) await deleteNamespaces(url, namespaces);
    },
  };
}

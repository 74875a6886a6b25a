import { CacheCore } from "../cache/cache-core.js";
import { KvCache } from "../cache/kv-cache.js";
import type { Clock } from "../kernel/clock.js";
import { ConfigurationError } from "../kernel/errors.js";
import type { Logger } from "../kernel/logger.js";
import type { CacheBackend, CacheNamespace } from "../l2/cache-backend.js";
import type { BackgroundRefresher } from "../read-through/background-refresher.js";
import type { CacheSpec } from "../spec/document-spec.js";

/** `cache(name)`'s default lifetime when no cache spec gives one. */
export const DEFAULT_KV_TTL_MS = 5 * 60_000;

/**
 * The cache API's cores, one per routed cache name, made on first use and shared by every `runtime.cache(name)` and
 * `ctx.cache(name)` (so single-flight, counters, observers and L1 are per runtime, not per call).
 */
export class CacheRegistry {
  readonly #cores = new Map<string, CacheCore>();

  constructor(
    private readonly backends: ReadonlyArray<CacheBackend>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly refresher: BackgroundRefresher | undefined,
    /** Builds the L1 of a namespace that asked for one, wired to push (undefined otherwise). */
    private readonly l1For: (namespace: CacheNamespace) => CacheCore["l1"] = () => undefined,
  ) {}

  /** A view of the cache `target` names (a cache name, or a spec's cache, whose ttl becomes the default). */
  view(target: CacheSpec | string, ensureRunning: () => void): KvCache {
    const name = typeof target === "string" ? target : target?.name;
    if (typeof name !== "string") throw new ConfigurationError("cache", "expects a cache spec or a cache name");
    let core = this.#cores.get(name);
    if (core === undefined) {
      const namespace = this.#namespace(name);
      core = new CacheCore(
        name,
        namespace.keyValues(),
        namespace.maxValueBytes ?? 1024 * 1024,
        this.clock,
        this.logger,
        this.refresher,
        this.l1For(namespace),
      );
      this.#cores.set(name, core);
    }
    const ttlMs = typeof target === "string" ? DEFAULT_KV_TTL_MS : target.ttlMs;
    return new KvCache(core, ttlMs, ensureRunning);
  }

  #namespace(name: string): CacheNamespace {
    for (const backend of this.backends) {
      const namespace = backend.namespace(name);
      if (namespace !== undefined) return namespace;
    }
    throw new ConfigurationError(
      `caches.${name}`,
      "has no route: add it to redisModule({ caches }) or memoryCacheModule({ caches })",
    );
  }
}

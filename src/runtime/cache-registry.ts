import { CacheCore } from "../cache/cache-core.js";
import { KvCache } from "../cache/kv-cache.js";
import { KvL1 } from "../cache/kv-l1.js";
import { KvLease } from "../cache/kv-lease.js";
import { CacheCoordination, type CoordinationStores } from "../coordination/cache-coordination.js";
import type { Clock } from "../kernel/clock.js";
import { systemClock } from "../kernel/clock.js";
import { coarseNow } from "../kernel/coarse-clock.js";
import { ConfigurationError } from "../kernel/errors.js";
import type { Logger } from "../kernel/logger.js";
import { createL1Store } from "../l1/create-l1-store.js";
import type { L1Store } from "../l1/l1-store.js";
import type { CacheBackend, CacheNamespace } from "../l2/cache-backend.js";
import type { KeyValueStore, StoredEntry } from "../l2/key-value-store.js";
import { SealedKeyValueStore } from "../l2/sealed-key-value-store.js";
import type { BackgroundRefresher } from "../read-through/background-refresher.js";
import type { CacheSpec } from "../spec/document-spec.js";
import { DEFAULT_KV_LEASE, type KvRouteSettings } from "./modules/kv-route-options.js";

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
    /** Per cache name: its default ttl and opt-in L1 (from the module's route options). */
    private readonly settings: ReadonlyMap<string, KvRouteSettings> = new Map(),
    /** Puts a new core's L1 and lease waiters under its backend's push channel, when the route has one. */
    private readonly attachPush: (namespace: CacheNamespace, target: CacheCore["pushTarget"]) => void = () => {},
    /** The lock and rate-limit stores of a cache name, from the module that routes it. */
    private readonly coordinationFor: (name: string) => CoordinationStores | undefined = () => undefined,
  ) {}

  /**
   * A view of the cache `target` names (a cache name, or a spec's cache, whose ttl becomes the default). With
   * `tenant`: that tenant's place under the route's tenancy tier, its own core (and no L1: push routes the route's
   * keys, not a tenant's).
   */
  view(target: CacheSpec | string, ensureRunning: () => void, tenant?: string): KvCache {
    const name = typeof target === "string" ? target : target?.name;
    if (typeof name !== "string") throw new ConfigurationError("cache", "expects a cache spec or a cache name");
    const slot = tenant === undefined ? name : `${name}@${tenant}`;
    let core = this.#cores.get(slot);
    if (core === undefined) {
      const route = this.#namespace(name);
      const namespace = tenant === undefined ? route : (route.forTenant?.(tenant) ?? route);
      core = new CacheCore(
        name,
        sealed(namespace, namespace.keyValues(), tenant),
        namespace.maxValueBytes ?? 1024 * 1024,
        this.clock,
        this.logger,
        this.refresher,
        tenant === undefined ? this.#l1For(namespace) : undefined,
      );
      const stores = this.coordinationFor(name);
      if (stores !== undefined) core.coordination = new CacheCoordination(stores, this.clock);
      core.lease = this.#leaseFor(core, namespace);
      // Push drops L1 copies and wakes lease waiters; a tenant's core has no L1 and its waiters poll.
      if (tenant === undefined && (core.l1 !== undefined || core.lease !== undefined)) {
        this.attachPush(namespace, core.pushTarget);
      }
      this.#cores.set(slot, core);
    }
    const ttlMs = typeof target === "string" ? (this.settings.get(name)?.ttlMs ?? DEFAULT_KV_TTL_MS) : target.ttlMs;
    return new KvCache(core, ttlMs, ensureRunning);
  }

  /** getOrSet's fill lease, on a backend with leases (route `lease`, or per call), else undefined. */
  #leaseFor(core: CacheCore, namespace: CacheNamespace): KvLease | undefined {
    const leases = core.store.leases;
    if (leases === undefined) return undefined;
    const spec = this.settings.get(core.name)?.lease;
    return new KvLease(
      leases,
      spec ?? DEFAULT_KV_LEASE,
      spec !== undefined,
      namespace.invalidationPush === true,
      (operation, error) => {
        core.counters.storeErrors++;
        core.storeErrorLog.warn(operation, `getOrSet: ${operation} failed; the lease is left to expire`, {
          cache: core.name,
          error: error instanceof Error ? error.message : String(error),
        });
      },
      () => this.clock.now(),
      core.name,
    );
  }

  #l1For(namespace: CacheNamespace): KvL1 | undefined {
    const options = this.settings.get(namespace.name)?.l1;
    if (options === undefined) return undefined;
    const store = createL1Store<StoredEntry>({
      policy: options.policy,
      capacity: options.capacity,
      ttl: options.ttlMs,
      // The default clock is coarsened on the L1 hit path (see coarse-clock.ts); an injected one is exact.
      now: this.clock === systemClock ? coarseNow : () => this.clock.now(),
    }) as L1Store<StoredEntry>;
    return new KvL1(store, namespace.name);
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

/** The store of a sealing route wrapped in its value transform (AAD: namespace, tenant, key); others as they are. */
function sealed(namespace: CacheNamespace, store: KeyValueStore, tenant: string | undefined): KeyValueStore {
  const sealer = namespace.sealer;
  return sealer === undefined
    ? store
    : new SealedKeyValueStore(store, sealer, `k|${namespace.namespace}|${tenant ?? ""}`);
}

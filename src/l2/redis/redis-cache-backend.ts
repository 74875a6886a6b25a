import type { Cluster, Redis } from "ioredis";
import { checkNamespace } from "../../kernel/check-options.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { Logger } from "../../kernel/logger.js";
import type { SealingConfig } from "../../sealing/value-sealer.js";
import { ValueSealer } from "../../sealing/value-sealer.js";
import type { Tenancy } from "../../tenancy/tenancy-options.js";
import type { CacheBackend, CacheNamespace } from "../cache-backend.js";
import type { CachePort } from "../cache-port.js";
import type { DocumentEntryStore } from "../document-entry.js";
import type { EntryLeases } from "../entry-lease.js";
import {
  entryPrefix,
  idleClockPrefix,
  kvGenerationKey,
  kvLeasePrefix,
  kvPrefix,
  kvTagPrefix,
  leasePrefix,
  versionFloorPrefix,
} from "../key-layout.js";
import type { KeyValueStore } from "../key-value-store.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../kv-input.js";
import { TaggedCacheNamespace } from "../tagged-namespace.js";
import { RedisEntryLeases } from "./redis-entry-leases.js";
import { RedisEntryStore } from "./redis-entry-store.js";
import { RedisKeyValueStore } from "./redis-key-value-store.js";
import { RedisKvStore } from "./redis-kv-store.js";

export interface RedisCacheRoute {
  readonly namespace: string;
  readonly invalidationPush: boolean;
  /** Key/value size limit in bytes (default DEFAULT_MAX_VALUE_BYTES). */
  readonly maxValueBytes?: number;
  /** Encryption and compression of the route's values; undefined for neither. */
  readonly sealing?: SealingConfig;
  /** How tenants are kept apart (default tagged). */
  readonly tenancy?: Tenancy;
}

/**
 * The opened Redis module: one client shared by every namespace it routes.
 * A client the user passed in is left open on close(); one we created from a url is quit.
 */
export class RedisCacheBackend implements CacheBackend {
  readonly kind = "redis";
  readonly names: ReadonlyArray<string>;
  readonly #namespaces = new Map<string, RedisNamespace>();
  /** Connections of dedicated-tier tenants, by url: opened on first use, closed with the backend. */
  readonly #dedicated = new Map<string, Redis>();

  constructor(
    readonly client: Redis | Cluster,
    routes: ReadonlyMap<string, RedisCacheRoute>,
    private readonly owned: boolean,
    readonly timeoutMs: number,
    private readonly logger: Logger,
    /** Opens a dedicated tenant's connection (redisModule's own connect, with its timeouts). */
    private readonly connect?: (url: string) => Redis,
  ) {
    this.names = [...routes.keys()];
    for (const [name, route] of routes) {
      this.#namespaces.set(name, new RedisNamespace(name, route, this));
    }
  }

  namespace(name: string): RedisNamespace | undefined {
    return this.#namespaces.get(name);
  }

  /** The connection of a dedicated-tier tenant (one per url, shared by the routes that name it). */
  dedicatedClient(url: string): Redis {
    let client = this.#dedicated.get(url);
    if (client === undefined) {
      if (this.connect === undefined) throw new Error("this backend cannot open dedicated connections");
      client = this.connect(url);
      this.#dedicated.set(url, client);
    }
    return client;
  }

  /** Answers once the server does (health probes). */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    const dedicated = [...this.#dedicated.values()];
    this.#dedicated.clear();
    await Promise.allSettled(dedicated.map((client) => client.quit().catch(() => client.disconnect())));
    if (!this.owned) return;
    try {
      await this.client.quit();
    } catch (error) {
      // Already closed or unreachable: disconnect so no reconnect timer outlives the runtime.
      this.logger.debug("redis quit failed; disconnecting", { error: String(error) });
      this.client.disconnect();
    }
  }
}

class RedisNamespace implements CacheNamespace {
  readonly namespace: string;
  readonly invalidationPush: boolean;
  readonly maxValueBytes: number;
  readonly sealer: ValueSealer | undefined;
  readonly #entries = new Map<string, RedisEntryStore>();
  readonly #tenants = new Map<string, CacheNamespace>();
  #keyValues: KeyValueStore | undefined;

  constructor(
    readonly name: string,
    private readonly route: RedisCacheRoute,
    private readonly backend: RedisCacheBackend,
    private readonly client: Redis | Cluster = backend.client,
    /** For a tenant's own namespace or connection: the route it belongs to, and the tenant. */
    readonly base?: RedisNamespace,
    readonly tenant?: string,
  ) {
    this.namespace = route.namespace;
    this.invalidationPush = route.invalidationPush;
    this.maxValueBytes = route.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    // One sealer per route, shared by its tenants: one set of counters.
    this.sealer =
      base?.sealer ?? (route.sealing === undefined ? undefined : new ValueSealer(route.sealing, this.maxValueBytes));
  }

  kv(defaultTtlMs: number, tenant?: string): CachePort {
    const prefix = kvPrefix(this.namespace, tenant);
    return new RedisKvStore(this.client, prefix, defaultTtlMs, this.backend.timeoutMs, this.maxValueBytes);
  }

  forTenant(tenant: string): CacheNamespace {
    let place = this.#tenants.get(tenant);
    if (place === undefined) {
      const tenancy = this.route.tenancy ?? { tier: "tagged" };
      const path = `redisModule.caches.${this.name}.tenancy`;
      if (tenancy.tier === "tagged") {
        place = new TaggedCacheNamespace(this, tenant);
      } else if (tenancy.tier === "namespace") {
        const namespace = checkNamespace(tenancy.resolve(tenant), `${path}.namespace("${tenant}")`);
        // Push reaches it only under the tracked prefix `<route namespace>:`; elsewhere L1 is TTL-bounded.
        const push = this.route.invalidationPush && namespace.startsWith(`${this.namespace}:`);
        place = new RedisNamespace(
          this.name,
          { ...this.route, namespace, invalidationPush: push },
          this.backend,
          this.client,
          this,
          tenant,
        );
      } else {
        const url = tenancy.resolve(tenant);
        if (typeof url !== "string" || !/^rediss?:\/\//.test(url)) {
          throw new ConfigurationError(`${path}.dedicated("${tenant}")`, "must return a redis:// or rediss:// url");
        }
        // Another connection: the route's tracking channel does not see it, so its L1 is TTL-bounded.
        const client = this.backend.dedicatedClient(url);
        place = new RedisNamespace(
          this.name,
          { ...this.route, invalidationPush: false },
          this.backend,
          client,
          this,
          tenant,
        );
      }
      this.#tenants.set(tenant, place);
    }
    return place;
  }

  keyValues(tenant?: string): KeyValueStore {
    const make = () =>
      new RedisKeyValueStore(
        this.client,
        kvPrefix(this.namespace, tenant),
        kvGenerationKey(this.namespace, tenant),
        kvTagPrefix(this.namespace, tenant),
        this.backend.timeoutMs,
        kvLeasePrefix(this.namespace, tenant),
      );
    if (tenant !== undefined) return make(); // a tagged tenant's own keys, generation and tags
    this.#keyValues ??= make();
    return this.#keyValues;
  }

  entries(fingerprint: string, maxTtlMs = 0): DocumentEntryStore {
    const slot = `${fingerprint}|${maxTtlMs}`;
    let store = this.#entries.get(slot);
    if (!store) {
      store = new RedisEntryStore(
        this.client,
        this.entryPrefix(fingerprint),
        idleClockPrefix(this.namespace, fingerprint),
        versionFloorPrefix(this.namespace, fingerprint),
        fingerprint,
        this.backend.timeoutMs,
        maxTtlMs,
      );
      this.#entries.set(slot, store);
    }
    return store;
  }

  leases(fingerprint: string, maxTtlMs = 0): EntryLeases {
    return new RedisEntryLeases(
      this.backend.client,
      this.entryPrefix(fingerprint),
      idleClockPrefix(this.namespace, fingerprint),
      versionFloorPrefix(this.namespace, fingerprint),
      leasePrefix(this.namespace, fingerprint),
      fingerprint,
      this.backend.timeoutMs,
      maxTtlMs,
    );
  }

  entryPrefix(fingerprint: string): string {
    return entryPrefix(this.namespace, fingerprint);
  }
}

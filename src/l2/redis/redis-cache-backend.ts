import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../../kernel/logger.js";
import type { CacheBackend, CacheNamespace } from "../cache-backend.js";
import type { CachePort } from "../cache-port.js";
import type { DocumentEntryStore } from "../document-entry.js";
import type { EntryLeases } from "../entry-lease.js";
import {
  entryPrefix,
  idleClockPrefix,
  kvGenerationKey,
  kvPrefix,
  kvTagPrefix,
  leasePrefix,
  versionFloorPrefix,
} from "../key-layout.js";
import type { KeyValueStore } from "../key-value-store.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../kv-input.js";
import { RedisEntryLeases } from "./redis-entry-leases.js";
import { RedisEntryStore } from "./redis-entry-store.js";
import { RedisKeyValueStore } from "./redis-key-value-store.js";
import { RedisKvStore } from "./redis-kv-store.js";

export interface RedisCacheRoute {
  readonly namespace: string;
  readonly invalidationPush: boolean;
  /** Key/value size limit in bytes (default DEFAULT_MAX_VALUE_BYTES). */
  readonly maxValueBytes?: number;
}

/**
 * The opened Redis module: one client shared by every namespace it routes.
 * A client the user passed in is left open on close(); one we created from a url is quit.
 */
export class RedisCacheBackend implements CacheBackend {
  readonly kind = "redis";
  readonly names: ReadonlyArray<string>;
  readonly #namespaces = new Map<string, RedisNamespace>();

  constructor(
    readonly client: Redis | Cluster,
    routes: ReadonlyMap<string, RedisCacheRoute>,
    private readonly owned: boolean,
    readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.names = [...routes.keys()];
    for (const [name, route] of routes) {
      this.#namespaces.set(name, new RedisNamespace(name, route, this));
    }
  }

  namespace(name: string): RedisNamespace | undefined {
    return this.#namespaces.get(name);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
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
  readonly #entries = new Map<string, RedisEntryStore>();
  #keyValues: KeyValueStore | undefined;

  constructor(
    readonly name: string,
    route: RedisCacheRoute,
    private readonly backend: RedisCacheBackend,
  ) {
    this.namespace = route.namespace;
    this.invalidationPush = route.invalidationPush;
    this.maxValueBytes = route.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  kv(defaultTtlMs: number): CachePort {
    const client = this.backend.client;
    return new RedisKvStore(client, kvPrefix(this.namespace), defaultTtlMs, this.backend.timeoutMs, this.maxValueBytes);
  }

  keyValues(): KeyValueStore {
    this.#keyValues ??= new RedisKeyValueStore(
      this.backend.client,
      kvPrefix(this.namespace),
      kvGenerationKey(this.namespace),
      kvTagPrefix(this.namespace),
      this.backend.timeoutMs,
    );
    return this.#keyValues;
  }

  entries(fingerprint: string, maxTtlMs = 0): DocumentEntryStore {
    const slot = `${fingerprint}|${maxTtlMs}`;
    let store = this.#entries.get(slot);
    if (!store) {
      store = new RedisEntryStore(
        this.backend.client,
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

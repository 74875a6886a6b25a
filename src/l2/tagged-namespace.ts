import type { ValueSealer } from "../sealing/value-sealer.js";
import type { CacheNamespace } from "./cache-backend.js";
import type { CachePort } from "./cache-port.js";
import type { DocumentEntryStore } from "./document-entry.js";
import { tenantKeyspace } from "./key-layout.js";
import type { KeyValueStore } from "./key-value-store.js";

/**
 * One tenant's place in a route under the tagged tier: the route's namespace and connection, with the tenant in
 * every key (documents: the keyspace `<fingerprint>@<tenant>`, also written in each envelope header; key/value:
 * `<namespace>:kv@<tenant>:`). Entry keys stay under the route's `<namespace>:` prefix, so push reaches them.
 */
export class TaggedCacheNamespace implements CacheNamespace {
  readonly name: string;
  readonly namespace: string;
  readonly invalidationPush: boolean | undefined;
  readonly maxValueBytes: number | undefined;
  readonly sealer: ValueSealer | undefined;

  constructor(
    readonly base: CacheNamespace,
    readonly tenant: string,
  ) {
    this.name = base.name;
    this.namespace = base.namespace;
    this.invalidationPush = base.invalidationPush;
    this.maxValueBytes = base.maxValueBytes;
    this.sealer = base.sealer;
  }

  kv(defaultTtlMs: number): CachePort {
    return this.base.kv(defaultTtlMs, this.tenant);
  }

  keyValues(): KeyValueStore {
    return this.base.keyValues(this.tenant);
  }

  entries(fingerprint: string, maxTtlMs?: number): DocumentEntryStore {
    return this.base.entries(tenantKeyspace(fingerprint, this.tenant), maxTtlMs);
  }

  entryPrefix(fingerprint: string): string {
    return this.base.entryPrefix(tenantKeyspace(fingerprint, this.tenant));
  }
}

import type { ValueSealer } from "../sealing/value-sealer.js";
import type { CachePort } from "./cache-port.js";
import type { DocumentEntryStore } from "./document-entry.js";
import type { EntryLeases } from "./entry-lease.js";
import type { KeyValueStore } from "./key-value-store.js";

/** One routed cache: a namespace in a backend. */
export interface CacheNamespace {
  /** The route name (`CacheSpec.name`). */
  readonly name: string;
  readonly namespace: string;
  /** Whether this route asked for push invalidation (served by the channel its module opened beside the backend). */
  readonly invalidationPush?: boolean;
  /** Largest value (key/value port) or document body (entries) this cache holds, in bytes. */
  readonly maxValueBytes?: number;
  /** Seals this route's values (encryption, compression); undefined when it does neither. */
  readonly sealer?: ValueSealer | undefined;
  /** For a tenant's place (see forTenant): the route it belongs to, and the tenant. */
  readonly base?: CacheNamespace;
  readonly tenant?: string;
  /**
   * The key/value port; `defaultTtlMs` applies to sets without their own ttl. `tenant`: that tenant's keys
   * (`<namespace>:kv@<tenant>:`).
   */
  kv(defaultTtlMs: number, tenant?: string): CachePort;
  /** Where `tenant`'s data lives under the route's tenancy tier (tagged keys, its own namespace, its own Redis). */
  forTenant?(tenant: string): CacheNamespace;
  /**
   * The cache API's store of this namespace (src/cache/), one per namespace; `tenant`: that tenant's keys, generation
   * and tags (`<namespace>:kv@<tenant>:…`).
   */
  keyValues(tenant?: string): KeyValueStore;
  /**
   * Versioned entries of the document whose schema has this fingerprint. `maxTtlMs`: the longest lifetime that
   * document ever gives an entry, tombstone or floor; the fence cuts longer-lived keys down to it (fence-script.ts).
   */
  entries(fingerprint: string, maxTtlMs?: number): DocumentEntryStore;
  /**
   * Fill leases on those entries (entry-lease.ts), for documents whose cache spec asks for them; `maxTtlMs` as for
   * `entries`. Optional: a backend without it serves leased documents as unleased.
   */
  leases?(fingerprint: string, maxTtlMs?: number): EntryLeases;
  /** The key prefix of those entries, e.g. for CLIENT TRACKING BCAST PREFIX. */
  entryPrefix(fingerprint: string): string;
}

/** An opened cache module: Redis, or the in-process store. */
export interface CacheBackend {
  readonly kind: string;
  /** Route names this backend serves. */
  readonly names: ReadonlyArray<string>;
  namespace(name: string): CacheNamespace | undefined;
  /** One round trip to the server (health probes); absent for in-process backends, which cannot fail. */
  ping?(): Promise<void>;
  /** Closes what the backend opened (the runtime stops a push channel over it first). */
  close(): Promise<void>;
}

/**
 * The Redis key layout, the one place that composes and parses it (every backend, the push router and the tests go
 * through here, so the fences and the invalidation routing cannot drift apart):
 *
 * - document entry:  `<namespace>:<fingerprint>:d:{<id>}`
 * - idle clock:      `<namespace>|idle:<fingerprint>:{<id>}` (sliding entries)
 * - version floor:   `<namespace>|floor:<fingerprint>:{<id>}` (see fence-script.ts)
 * - fill lease:      `<namespace>|lease:<fingerprint>:{<id>}` (see entry-lease.ts)
 * - key/value port:  `<namespace>:kv:<key>`, and `<namespace>:kv@<tenant>:<key>` in a tenant's context
 * - key/value lease: `<namespace>|kvlease:<key>` (`<namespace>|kvlease@<tenant>:<key>`; see key-value-lease.ts)
 *
 * Under the tagged tenant tier a tenant's documents use the keyspace `<fingerprint>@<tenant>` in place of the
 * fingerprint (tenantKeyspace): its entries, clocks and floors all carry the tenant, and so does the envelope header.
 *
 * `{<id>}` is a cluster hash tag: an entry, its idle clock and its floor share one slot, so one script touches all
 * three. Clocks and floors sit outside the `<namespace>:` prefix that CLIENT TRACKING BCAST watches, so writing them
 * invalidates nobody.
 */

/** `<namespace>:<fingerprint>:d:`, the prefix of a document's entries. */
export function entryPrefix(namespace: string, fingerprint: string): string {
  return `${namespace}:${fingerprint}:d:`;
}

/** `<namespace>|idle:<fingerprint>:`, the prefix of the idle clocks of sliding entries. */
export function idleClockPrefix(namespace: string, fingerprint: string): string {
  return `${namespace}|idle:${fingerprint}:`;
}

/**
 * `<namespace>|floor:<fingerprint>:`, the prefix of version floors: the newest version a writer put, so the fence
 * outlives an evicted entry (fence-script.ts).
 */
export function versionFloorPrefix(namespace: string, fingerprint: string): string {
  return `${namespace}|floor:${fingerprint}:`;
}

/** `<namespace>|lease:<fingerprint>:`, the prefix of fill leases (entry-lease.ts); untracked, like floors. */
export function leasePrefix(namespace: string, fingerprint: string): string {
  return `${namespace}|lease:${fingerprint}:`;
}

/** `<namespace>:kv:`, the prefix of the key/value port's keys (`<namespace>:kv@<tenant>:` for a tenant's). */
export function kvPrefix(namespace: string, tenant?: string): string {
  return tenant === undefined ? `${namespace}:kv:` : `${namespace}:kv@${tenant}:`;
}

/**
 * `<namespace>|kvlease:`, the prefix of the cache API's fill leases (key-value-lease.ts): outside the tracked
 * `<namespace>:` prefix, so taking or dropping a lease invalidates nobody, and out of reach of any user key.
 */
export function kvLeasePrefix(namespace: string, tenant?: string): string {
  return tenant === undefined ? `${namespace}|kvlease:` : `${namespace}|kvlease@${tenant}:`;
}

/** A tenant's keyspace under the tagged tier: `<fingerprint>@<tenant>` (tenant ids hold no `@`, `:`, `|`, `{`). */
export function tenantKeyspace(fingerprint: string, tenant: string): string {
  return `${fingerprint}@${tenant}`;
}

/** The key of `id` under one of the per-id prefixes above: `<prefix>{<id>}` (the hash tag keeps them in one slot). */
export function idKey(prefix: string, id: string): string {
  return `${prefix}{${id}}`;
}

/** The parts of a document entry key `<namespace>:<fingerprint>:d:{<id>}`. */
export interface EntryKey {
  /** `<namespace>:<fingerprint>:d:`, the document's entry prefix. */
  readonly prefix: string;
  readonly id: string;
}

/** Splits an entry key; undefined for any other key in the namespace (kv keys, companions). */
export function parseEntryKey(key: string): EntryKey | undefined {
  if (key.charCodeAt(key.length - 1) !== 125 /* } */) return undefined;
  // Ids never contain ":d:{" (they are UUIDs); namespaces might, so split at the last one.
  const at = key.lastIndexOf(":d:{");
  if (at < 0) return undefined;
  return { prefix: key.slice(0, at + 3), id: key.slice(at + 4, -1) };
}

/**
 * `<namespace>|<kind>:{<key>}`, a coordination key (kind `lock`, `fence` or `rate`): outside the `<namespace>:`
 * prefix, so it never meets a key/value key or a tracked document entry; the lock and its fence counter share a slot.
 */
export function coordinationKey(namespace: string, kind: "lock" | "fence" | "rate", key: string): string {
  return `${namespace}|${kind}:{${key}}`;
}

/**
 * `<namespace>:kv|gen`, the key/value generation of a namespace: `clear()` bumps it, and an entry written under an
 * older one is a miss. Under the `<namespace>:` prefix (CLIENT TRACKING sees a clear), never under `<namespace>:kv:`
 * (no user key can name it).
 */
export function kvGenerationKey(namespace: string, tenant?: string): string {
  return tenant === undefined ? `${namespace}:kv|gen` : `${namespace}:kv@${tenant}|gen`;
}

/** `<namespace>:kv|tag:`, the prefix of tag versions (`invalidateTags` bumps them; see l2/kv-envelope.ts). */
export function kvTagPrefix(namespace: string, tenant?: string): string {
  return tenant === undefined ? `${namespace}:kv|tag:` : `${namespace}:kv@${tenant}|tag:`;
}

/**
 * Splits a pushed key of one of `namespaces`' key/value entries: `{ prefix: "<namespace>:kv:", key }`; `key` is
 * undefined for the namespace's generation or a tag version (a clear or tag invalidation: any entry may be
 * concerned). Undefined for every other key.
 */
export function parseKvKey(
  key: string,
  namespaces: ReadonlyArray<string>,
): { readonly prefix: string; readonly key: string | undefined } | undefined {
  for (const namespace of namespaces) {
    const prefix = kvPrefix(namespace);
    if (key.startsWith(prefix)) return { prefix, key: key.slice(prefix.length) };
    if (key === kvGenerationKey(namespace) || key.startsWith(kvTagPrefix(namespace))) return { prefix, key: undefined };
  }
  return undefined;
}

/**
 * The Redis key layout, the one place that composes and parses it (every backend, the push router and the tests go
 * through here, so the fences and the invalidation routing cannot drift apart):
 *
 * - document entry:  `<namespace>:<fingerprint>:d:{<id>}`
 * - idle clock:      `<namespace>|idle:<fingerprint>:{<id>}` (sliding entries)
 * - version floor:   `<namespace>|floor:<fingerprint>:{<id>}` (see fence-script.ts)
 * - fill lease:      `<namespace>|lease:<fingerprint>:{<id>}` (see entry-lease.ts)
 * - key/value port:  `<namespace>:kv:<key>`
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

/** `<namespace>:kv:`, the prefix of the key/value port's keys. */
export function kvPrefix(namespace: string): string {
  return `${namespace}:kv:`;
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
 * `<namespace>:kv|gen`, the key/value generation of a namespace: `clear()` bumps it, and an entry written under an
 * older one is a miss. Under the `<namespace>:` prefix (CLIENT TRACKING sees a clear), never under `<namespace>:kv:`
 * (no user key can name it).
 */
export function kvGenerationKey(namespace: string): string {
  return `${namespace}:kv|gen`;
}

/** `<namespace>:kv|tag:`, the prefix of tag versions (`invalidateTags` bumps them; see l2/kv-envelope.ts). */
export function kvTagPrefix(namespace: string): string {
  return `${namespace}:kv|tag:`;
}

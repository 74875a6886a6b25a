/** The parts of a document entry key `<namespace>:<fingerprint>:d:{<id>}` (see l2/cache-backend.ts). */
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

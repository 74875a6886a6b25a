/**
 * Redis' WRONGTYPE reply: a key the library reads holds a hash, a list… — never something the library wrote. Read
 * paths turn it into a miss (bad data in Redis costs misses: invariant 8 in ARCHITECTURE.md); the fence reads such a key
 * as absent (MGET) and a put replaces it.
 */
export function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("WRONGTYPE");
}

/** A lone GET's answer for a key of another type: an empty value, which decodes as a corrupt entry (a miss). */
export function corruptOnWrongType(error: unknown): string {
  if (isWrongType(error)) return "";
  throw error;
}

/** A key/value GET's answer for a key of another type: absent. */
export function missOnWrongType(error: unknown): null {
  if (isWrongType(error)) return null;
  throw error;
}

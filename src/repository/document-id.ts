/**
 * Id and rev checks done before any cache key or SQL is built, so a malformed value costs no round trip and never
 * reaches a query.
 */
import { ValidationError } from "../kernel/errors.js";

/**
 * The canonical form, by regex. A per-char table loop was tried three times: in fresh microbenchmarks it ran from
 * 2x faster to 1.3x slower than the regex depending on what else the process had run (~40–70 ns an id against
 * ~50–120); inside `bench/peers.ts`, on that benchmark's ids, it took 250–330 ns an id against the regex's 80–90
 * (2026-11-30). The regex's cost holds steady across processes and string shapes; the loop's does not.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * 0: not a UUID (8-4-4-4-12 hex digits); 1: a UUID in canonical lower case; 2: a UUID with upper-case digits. The
 * common canonical id is one regex test; the rest a char loop (rather than a case-insensitive regex and a second
 * pass to tell the cases apart).
 */
function uuidForm(value: string): 0 | 1 | 2 {
  if (value.length !== 36) return 0;
  if (CANONICAL_UUID.test(value)) return 1;
  let upper = false;
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45 /* - */) return 0;
    } else if ((c < 48 || c > 57) && (c < 97 || c > 102)) {
      if (c < 65 || c > 70) return 0; // A-F
      upper = true;
    }
  }
  return upper ? 2 : 1;
}

export function isDocumentId(value: unknown): value is string {
  return typeof value === "string" && uuidForm(value) !== 0;
}

/**
 * The id in canonical (lower-case) form, as Postgres returns it; throws `ValidationError` otherwise.
 * `index` (and `list`): the position in a list of ids, named in the error's path (`[3]`, `["ids", 3]`) instead of
 * `id`. Plain arguments, so a valid id costs no allocation.
 */
export function checkDocumentId(document: string, id: unknown, index?: number, list?: string): string {
  const form = typeof id === "string" ? uuidForm(id) : 0;
  if (form === 1) return id as string; // canonical already: no copy
  if (form === 0) {
    const path = index === undefined ? ["id"] : list === undefined ? [index] : [list, index];
    throw new ValidationError(
      document,
      [{ path, message: `expected a UUID (8-4-4-4-12 hex digits), got ${describe(id)}`, code: "invalid_id" }],
      "id",
    );
  }
  return (id as string).toLowerCase();
}

/** Revs start at 1; anything else would only fail later as a SQL cast error. */
export function checkRev(document: string, rev: unknown): number {
  if (typeof rev !== "number" || !Number.isSafeInteger(rev) || rev < 1) {
    throw new ValidationError(
      document,
      [{ path: ["rev"], message: `expected a positive integer, got ${describe(rev)}`, code: "invalid_rev" }],
      "rev",
    );
  }
  return rev;
}

function describe(value: unknown): string {
  if (typeof value !== "string") return typeof value;
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

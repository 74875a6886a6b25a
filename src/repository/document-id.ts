/**
 * Id and rev checks done before any cache key or SQL is built, so a malformed value costs no round trip and never
 * reaches a query.
 */
import { ValidationError } from "../kernel/errors.js";

/**
 * The canonical form, by regex: its cost holds steady across processes; a `charCodeAt` loop's does not. Once any
 * object in the process has `String.prototype` as a prototype (`class X extends String`, which node-redis 5 does for
 * its VerbatimString, or `Object.create(String.prototype)`), V8 stops inlining `charCodeAt` and `codePointAt` for
 * good, and every call costs ~15 ns. A branch-free table loop ran 50–75 ns an id in a clean process against the
 * regex's ~175, and 340–700 ns after that (inside `bench/peers.ts`, which loads node-redis for two peers: 433–708 ns
 * against the regex's 200–258; 2026-12-01). `value[i]` stays fast, but compares characters as strings.
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

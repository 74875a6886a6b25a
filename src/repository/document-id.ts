/**
 * Id and rev checks done before any cache key or SQL is built, so a malformed value costs no round trip and never
 * reaches a query.
 */
import { ValidationError } from "../kernel/errors.js";

/** Per ASCII code: 1 for a lower-case hex digit (0-9, a-f), else 0. */
const LOWER_HEX = new Uint8Array(128);
for (const c of "0123456789abcdef") LOWER_HEX[c.charCodeAt(0)] = 1;

/**
 * Whether a 36-character string is a UUID in canonical lower case: branch-free over the digits (a char ≥ 128 fails
 * on its own high bits; `& 127` keeps the table read in bounds), then the four dashes.
 *
 * It replaced a regex test (`/^[0-9a-f]{8}-…$/`): on ids read from Postgres, 58–66 ns an id against the regex's
 * 184–206 (the two builds interleaved in one process, 2026-12-01), and 50–75 against ~175 on JSON-parsed, sliced,
 * cons, thin and external strings alike. An earlier loop with a branch per position had lost to the regex inside
 * bench/peers.ts (250–330 ns an id against 80–90, 2026-11-30); this one has no branch per character.
 */
function isCanonicalUuid(value: string): boolean {
  let bad = 0;
  for (let i = 0; i < 8; i++) bad |= hexMiss(value.charCodeAt(i));
  for (let i = 9; i < 13; i++) bad |= hexMiss(value.charCodeAt(i));
  for (let i = 14; i < 18; i++) bad |= hexMiss(value.charCodeAt(i));
  for (let i = 19; i < 23; i++) bad |= hexMiss(value.charCodeAt(i));
  for (let i = 24; i < 36; i++) bad |= hexMiss(value.charCodeAt(i));
  return (
    bad === 0 &&
    value.charCodeAt(8) === 45 /* - */ &&
    value.charCodeAt(13) === 45 &&
    value.charCodeAt(18) === 45 &&
    value.charCodeAt(23) === 45
  );
}

/** Non-zero unless `c` is a lower-case hex digit's code. */
function hexMiss(c: number): number {
  return (LOWER_HEX[c & 127]! ^ 1) | (c >>> 7);
}

/**
 * 0: not a UUID (8-4-4-4-12 hex digits); 1: a UUID in canonical lower case; 2: a UUID with upper-case digits. The
 * common canonical id takes one pass; anything else a second, slower one that tells the cases apart.
 */
function uuidForm(value: string): 0 | 1 | 2 {
  if (value.length !== 36) return 0;
  if (isCanonicalUuid(value)) return 1;
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

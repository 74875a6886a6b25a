/**
 * Id and rev checks done before any cache key or SQL is built, so a malformed value costs no round trip and never
 * reaches a query.
 */
import { ValidationError } from "../kernel/errors.js";

/** 0 for the lower-case hex digits, 1 for every other ASCII code (a code above 127 is rejected by its high bits). */
const NOT_HEX = new Uint8Array(128).fill(1);
for (const digit of "0123456789abcdef") NOT_HEX[digit.charCodeAt(0)] = 0;

/** Non-zero unless value[from, to) is all lower-case hex digits: branch-free, one table load per char. */
function notHex(value: string, from: number, to: number): number {
  let bad = 0;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    bad |= NOT_HEX[c & 127]! | (c >> 7);
  }
  return bad;
}

/**
 * 0: not a UUID (8-4-4-4-12 hex digits); 1: a UUID in canonical lower case; 2: a UUID with upper-case digits. The
 * common canonical id is four dash checks and one OR-ed table lookup per digit — measured ~3× faster than the
 * anchored regex it replaced (73 against 220–270 ns an id; 100 of them per getMany); the rest a char loop that tells
 * the cases apart.
 */
function uuidForm(value: string): 0 | 1 | 2 {
  if (value.length !== 36) return 0;
  if (
    value.charCodeAt(8) === 45 &&
    value.charCodeAt(13) === 45 &&
    value.charCodeAt(18) === 45 &&
    value.charCodeAt(23) === 45 &&
    (notHex(value, 0, 8) |
      notHex(value, 9, 13) |
      notHex(value, 14, 18) |
      notHex(value, 19, 23) |
      notHex(value, 24, 36)) ===
      0
  ) {
    return 1;
  }
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

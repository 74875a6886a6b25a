/**
 * Id and rev checks done before any cache key or SQL is built, so a malformed value costs no round trip and never
 * reaches a query.
 */
import { ValidationError } from "../kernel/errors.js";

/**
 * The canonical form, checked on the id's bytes: the id is encoded into a scratch array as UTF-8 and each byte looked
 * up in a table, ~125 ns an id in any process. Neither alternative holds steady that way (2026-12-01, this VM):
 * - a regex (`/^[0-9a-f]{8}-…$/`, what this did before) ran ~205–220 ns an id in the same A/B, ~6 ns a character;
 * - a `charCodeAt` loop ran 50–75 ns an id in a clean process, but once any object in the process has
 *   `String.prototype` as a prototype (`class X extends String`, which node-redis 5 does for its VerbatimString, or
 *   `Object.create(String.prototype)`), V8 stops inlining `charCodeAt` and `codePointAt` for good: 340–700 ns an id.
 * UTF-8 keeps the check exact: a 36-unit string is 36 bytes only when every unit is ASCII (anything else takes two
 * bytes or more, each ≥ 0x80, which the table rejects), so no character can pass as the hex digit of its low byte.
 */
const ID_LENGTH = 36;
/** Holds the id being checked (checks are synchronous, so one array serves them all); room for more than an id. */
const scratch = new Uint8Array(64);
const utf8 = new TextEncoder();
/** Per byte: 1 for a lower-case hex digit, 2 for `-`, 0 for anything else. */
const BYTE_CLASS = new Uint8Array(256);
for (const c of "0123456789abcdef") BYTE_CLASS[c.charCodeAt(0)] = 1;
BYTE_CLASS[45 /* - */] = 2;
/** What the class of each position of a canonical id must be: 8-4-4-4-12 digits with dashes between. */
const EXPECTED_CLASS = new Uint8Array(ID_LENGTH).fill(1);
for (const dash of [8, 13, 18, 23]) EXPECTED_CLASS[dash] = 2;

/** Whether `value` (36 units long) is a UUID in canonical lower case: one encode and a branch-free pass. */
function isCanonical(value: string): boolean {
  // encodeInto stops where the array is full: a 36-unit string with anything but ASCII writes 37 bytes or more.
  if (utf8.encodeInto(value, scratch).written !== ID_LENGTH) return false;
  let mismatch = 0;
  for (let i = 0; i < ID_LENGTH; i++) mismatch |= BYTE_CLASS[scratch[i]!]! ^ EXPECTED_CLASS[i]!;
  return mismatch === 0;
}

/**
 * 0: not a UUID (8-4-4-4-12 hex digits); 1: a UUID in canonical lower case; 2: a UUID with upper-case digits. The
 * common canonical id takes the byte check; the rest a char loop (rare: upper case, or not an id at all).
 */
function uuidForm(value: string): 0 | 1 | 2 {
  if (value.length !== ID_LENGTH) return 0;
  if (isCanonical(value)) return 1;
  let upper = false;
  for (let i = 0; i < ID_LENGTH; i++) {
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

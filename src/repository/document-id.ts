/**
 * Id and rev checks done before any cache key or SQL is built, so a malformed value costs no round trip and never
 * reaches a query.
 */
import { ValidationError } from "../kernel/errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isDocumentId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * The id in canonical (lower-case) form, as Postgres returns it; throws `ValidationError` otherwise.
 * `index` (and `list`): the position in a list of ids, named in the error's path (`[3]`, `["ids", 3]`) instead of
 * `id`. Plain arguments, so a valid id costs no allocation.
 */
export function checkDocumentId(document: string, id: unknown, index?: number, list?: string): string {
  if (!isDocumentId(id)) {
    const path = index === undefined ? ["id"] : list === undefined ? [index] : [list, index];
    throw new ValidationError(
      document,
      [{ path, message: `expected a UUID (8-4-4-4-12 hex digits), got ${describe(id)}`, code: "invalid_id" }],
      "id",
    );
  }
  return id.toLowerCase();
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

/**
 * The table's columns and the mapping from a driver row to a `StoredRow`.
 *
 * Exports: `rowColumns`, `toStoredRow(row): StoredRow`, `toNumber(value, column): number`.
 */
import type { StoredRow } from "../document-repository.js";
import type { SqlRow } from "./sql-driver.js";

/**
 * A timestamptz as whole epoch milliseconds, computed by Postgres in integers: the whole seconds plus the millisecond
 * part of the microseconds, rounded down as the drivers' own date parsing rounds (pre-1970 times included). A read
 * then builds its Dates from a number instead of parsing timestamp text (~0.5 µs a date with pg's parser, two per
 * row), and Postgres prints an int8 instead of formatting a timestamp in the session's time zone. ±infinity (only
 * raw SQL can write it) reads as NULL: an Invalid Date, as the text parsers gave, not an error for the whole query.
 */
function epochMs(column: string): string {
  return `CASE WHEN isfinite(${column}) THEN extract(epoch from date_trunc('second', ${column}))::int8 * 1000 + (extract(microseconds from ${column})::int8 / 1000) % 1000 END AS ${column}`;
}

export const rowColumns = `id, rev, incarnation, ${epochMs("created_at")}, ${epochMs("updated_at")}, data`;

export function toStoredRow(row: SqlRow): StoredRow {
  return {
    id: String(row.id),
    rev: toNumber(row.rev, "rev"),
    incarnation: toNumber(row.incarnation, "incarnation"),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    data: toData(row.data),
  };
}

/** `pg` returns bigint as a string (it may exceed 2^53), PGlite as a number; both stay far below 2^53 here. */
export function toNumber(value: unknown, column: string): number {
  const n =
    typeof value === "number" ? value : typeof value === "string" || typeof value === "bigint" ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new TypeError(`column ${column} is not a safe integer: ${String(value)}`);
  return n;
}

/**
 * Epoch milliseconds (rowColumns): an int8 is a string from pg, a number or bigint from PGlite; NULL is an Invalid
 * Date. A Date or timestamp text (a caller's own type parser, a hand-written query) is taken as it is.
 */
function toDate(value: unknown): Date {
  if (typeof value === "number") return new Date(value);
  if (typeof value === "string") {
    const ms = Number(value);
    return new Date(Number.isNaN(ms) ? value : ms);
  }
  if (typeof value === "bigint") return new Date(Number(value));
  return value instanceof Date ? value : new Date(Number.NaN);
}

/** Both drivers parse jsonb by default; a caller-configured type parser may hand us the text instead. */
function toData(value: unknown): Readonly<Record<string, unknown>> {
  const data: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TypeError("column data is not a JSON object");
  }
  return data as Record<string, unknown>;
}

/**
 * The table's columns and the mapping from a driver row to a `StoredRow`.
 *
 * Exports: `rowColumns`, `toStoredRow(row): StoredRow`, `toNumber(value, column): number`.
 */
import type { StoredRow } from "../document-repository.js";
import type { SqlRow } from "./sql-driver.js";

export const rowColumns = "id, rev, incarnation, created_at, updated_at, data";

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

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** Both drivers parse jsonb by default; a caller-configured type parser may hand us the text instead. */
function toData(value: unknown): Readonly<Record<string, unknown>> {
  const data: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TypeError("column data is not a JSON object");
  }
  return data as Record<string, unknown>;
}

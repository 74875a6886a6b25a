/**
 * Identifier quoting: every schema and table name reaches SQL through here.
 *
 * Exports: `quoteIdent(name, path): string`, `qualifiedTableName(table: TableRef): string`.
 */
import { ConfigurationError } from "../../kernel/errors.js";
import type { TableRef } from "../document-repository.js";

/** Postgres truncates identifiers to NAMEDATALEN - 1 bytes; refusing longer ones avoids two names colliding. */
const maxIdentifierBytes = 63;

/** `"name"` with inner quotes doubled. `path` names the setting in the error (e.g. `table`). */
export function quoteIdent(name: string, path = "identifier"): string {
  if (name.length === 0) throw new ConfigurationError(path, "must not be empty");
  if (name.includes("\0")) throw new ConfigurationError(path, "must not contain a NUL character");
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > maxIdentifierBytes) {
    throw new ConfigurationError(path, `must be at most ${maxIdentifierBytes} bytes (got ${bytes})`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualifiedTableName(table: TableRef): string {
  return `${quoteIdent(table.schema, "schema")}.${quoteIdent(table.table, "table")}`;
}

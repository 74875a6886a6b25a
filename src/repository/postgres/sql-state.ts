/**
 * SQLSTATE codes we act on, and a reader that works for both `pg` and PGlite errors (both put it in `code`).
 *
 * Exports: `SqlState`, `sqlStateOf(error): string | undefined`.
 */
import { UnavailableError } from "../../kernel/errors.js";

export const SqlState = {
  uniqueViolation: "23505",
  duplicateTable: "42P07",
  duplicateSchema: "42P06",
  duplicateObject: "42710",
} as const;

/**
 * The five-character SQLSTATE, or `undefined` for errors that did not come from the server (e.g. ECONNRESET).
 * An UnavailableError wrapping a server error (postgres-failure.ts) answers with its cause's.
 */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  return error instanceof UnavailableError ? sqlStateOf(error.cause) : undefined;
}

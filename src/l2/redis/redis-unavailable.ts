import { type StrataError, UnavailableError } from "../../kernel/errors.js";

/** Wraps a Redis failure for callers of the raw key/value port (code UNAVAILABLE, the driver's error as cause). */
export function unavailable(operation: string, error: unknown): StrataError {
  return new UnavailableError(
    "redis",
    `redis ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/**
 * The one place a driver error becomes what callers see: anything that is not already a StrataError (a server
 * error, a dropped connection, a timeout, a driver TypeError) is an UnavailableError("postgres") with the driver's
 * error as `cause`. Its SQLSTATE stays readable through `sqlStateOf`, which looks at the cause.
 */
import { StrataError, UnavailableError } from "../../kernel/errors.js";

export function postgresFailure(error: unknown, endpoint: string): StrataError {
  if (error instanceof StrataError) return error;
  const reason = error instanceof Error ? error.message || error.name : String(error);
  return new UnavailableError("postgres", `Postgres at ${endpoint} failed: ${reason}`, { cause: error });
}

import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";

/**
 * A tenant id: 1–64 of `a-z A-Z 0-9 _ -`, starting with a letter or digit. The alphabet keeps it out of every
 * separator of the key layout (`:`, `|`, `@`, `{`) so a tenant segment can never be mistaken for another key part.
 */
export const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The tenant id, or a ConfigurationError naming `path`. */
export function checkTenantId(value: unknown, path: string): string {
  if (typeof value !== "string" || !TENANT_ID.test(value)) {
    throw new ConfigurationError(
      path,
      `must be a tenant id: 1-64 of A-Z a-z 0-9 _ -, starting with a letter or digit (got ${describeValue(value)})`,
    );
  }
  return value;
}

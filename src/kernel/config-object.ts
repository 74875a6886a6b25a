import { didYouMean } from "./did-you-mean.js";
import { ConfigurationError } from "./errors.js";

/** A user-written settings object, read key by key. */
export type ConfigObject = Readonly<Record<string, unknown>>;

/**
 * Returns `value` as a settings object, or throws naming `path` (empty for a top-level argument). Only plain objects qualify: a Map, a
 * class instance or an array has no keys to validate and would silently mean "all defaults".
 */
export function expectConfigObject(value: unknown, path: string, example: string): ConfigObject {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return value as ConfigObject;
  }
  const rule = `${path ? "must be" : "expected"} an object like ${example} (got ${describeValue(value)})`;
  throw new ConfigurationError(path, rule);
}

/**
 * Throws for the first key of `object` not in `known`, with a hint: the setting's right place when the
 * key is valid at another level (`relocated`), else the closest known key when it looks like a typo.
 */
export function rejectUnknownKeys(
  object: ConfigObject,
  known: ReadonlyArray<string>,
  path: string,
  relocated: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const home = Object.hasOwn(relocated, key) ? relocated[key] : undefined;
    const guess = didYouMean(key, known);
    const hint = home ? ` (it belongs in ${home})` : guess ? ` (did you mean ${guess}?)` : "";
    throw new ConfigurationError(
      path ? `${path}.${key}` : key,
      `is not a known setting${hint}; expected one of ${known.join(", ")}`,
    );
  }
}

/** A short, safe rendering of a user value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

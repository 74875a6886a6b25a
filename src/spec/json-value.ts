import type { ValidationIssue } from "../kernel/errors.js";

/**
 * What stratacache stores as JSON (document fields in Postgres jsonb and in L2, key/value values), and the check
 * that refuses, before anything is sent, a value JSON would reject, silently change, or that a store cannot hold.
 */

/** Deepest nesting accepted (objects and arrays): deeper values overflow stacks in JSON, zod or Postgres. */
export const MAX_JSON_DEPTH = 100;

export interface JsonCheckOptions {
  /**
   * Refuse strings (values and keys) that Postgres jsonb cannot hold: NUL (`\u0000`) and lone UTF-16 surrogates.
   * Off for the key/value port: Redis holds any bytes, and JSON escapes both.
   */
  readonly postgresStrings: boolean;
  /** Check only for cycles and depth (raw input before a schema parses it: zod recursion must not overflow). */
  readonly structureOnly?: boolean;
}

/** NUL, or a surrogate that is not half of a pair (a `u` regex matches a well-formed pair as one code point). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be found.
const UNSTORABLE_TEXT = /\u0000|\p{Surrogate}/u;

/**
 * The first problem in `value`, or undefined when it is storable. Refused: bigint, symbol, function, NaN and
 * ±Infinity (JSON would write null), undefined inside an array (null), Map and Set (`{}`), circular references,
 * nesting deeper than MAX_JSON_DEPTH, and (with `postgresStrings`) NUL or lone surrogates. Allowed: null, booleans,
 * finite numbers, strings, arrays, plain and class objects (their own enumerable properties, as JSON writes them),
 * Dates (stored as ISO strings; a typed `z.date()` field reads back as a Date), and undefined object properties
 * (omitted, i.e. absent).
 */
export function findJsonIssue(value: unknown, options: JsonCheckOptions): ValidationIssue | undefined {
  if (options.structureOnly) return visitStructure(value, [], new Set<object>());
  return visit(value, [], new Set<object>(), options.postgresStrings);
}

function visitStructure(
  value: unknown,
  path: Array<string | number>,
  ancestors: Set<object>,
): ValidationIssue | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (ancestors.has(value)) return issue(path, "the value is circular", "circular");
  if (ancestors.size >= MAX_JSON_DEPTH) return issue(path, `nesting deeper than ${MAX_JSON_DEPTH} levels`, "too_deep");
  if (value instanceof Date || value instanceof Map || value instanceof Set) return undefined;
  ancestors.add(value);
  try {
    for (const key of Object.keys(value)) {
      path.push(Array.isArray(value) ? Number(key) : key);
      const found = visitStructure((value as Record<string, unknown>)[key], path, ancestors);
      path.pop();
      if (found) return found;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}

function visit(
  value: unknown,
  path: Array<string | number>,
  ancestors: Set<object>,
  strings: boolean,
): ValidationIssue | undefined {
  switch (typeof value) {
    case "string":
      return strings && UNSTORABLE_TEXT.test(value) ? textIssue(path) : undefined;
    case "number":
      return Number.isFinite(value) ? undefined : issue(path, `${value} is not a JSON number`, "not_json");
    case "boolean":
      return undefined;
    case "undefined":
      return undefined;
    case "bigint":
      return issue(path, "a bigint is not JSON; declare the field as z.bigint() to store it", "not_json");
    case "symbol":
    case "function":
      return issue(path, `a ${typeof value} is not JSON`, "not_json");
  }
  if (value === null) return undefined;
  const object = value as object;
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? issue(path, "an invalid Date is not JSON", "not_json") : undefined;
  }
  if (object instanceof Map || object instanceof Set) {
    return issue(path, `a ${object.constructor.name} would be stored as {}; use an array or object`, "not_json");
  }
  if (ancestors.has(object)) return issue(path, "the value is circular", "circular");
  if (ancestors.size >= MAX_JSON_DEPTH) {
    return issue(path, `nesting deeper than ${MAX_JSON_DEPTH} levels`, "too_deep");
  }
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const item: unknown = object[i];
        path.push(i);
        const found =
          item === undefined
            ? issue(path, "undefined in an array would be stored as null", "not_json")
            : visit(item, path, ancestors, strings);
        path.pop();
        if (found) return found;
      }
      return undefined;
    }
    for (const key of Object.keys(object)) {
      path.push(key);
      const found =
        strings && UNSTORABLE_TEXT.test(key)
          ? textIssue(path)
          : visit((object as Record<string, unknown>)[key], path, ancestors, strings);
      path.pop();
      if (found) return found;
    }
    return undefined;
  } finally {
    ancestors.delete(object);
  }
}

function textIssue(path: ReadonlyArray<string | number>): ValidationIssue {
  return issue(path, "NUL (\\u0000) and lone UTF-16 surrogates cannot be stored in Postgres", "invalid_text");
}

function issue(path: ReadonlyArray<string | number>, message: string, code: string): ValidationIssue {
  return { path: [...path], message, code };
}

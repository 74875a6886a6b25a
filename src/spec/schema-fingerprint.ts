import { createHash } from "node:crypto";
import type { DocumentFields } from "./document-spec.js";

/**
 * Bumped whenever the canonical description below changes, so a library upgrade that describes the
 * same schema differently moves every document to a fresh namespace instead of half-matching.
 */
const DESCRIPTION_VERSION = 1;

/** Hex characters kept from the sha256: 48 bits, ample for telling one document's deploys apart. */
const FINGERPRINT_LENGTH = 12;

/**
 * A stable hash of the fields' shape. It is part of every L2 key, so a deploy that changes the shape
 * never reads entries written under the old one.
 *
 * Covered: field names (declaration order does not matter), each field's type, recursively through
 * objects (and their strict/loose mode), arrays, tuples, records, maps, sets, unions (option order
 * matters), intersections, pipes, lazy and recursive schemas; enum and literal values; wrappers
 * (optional, nullable, default, prefault, catch, readonly, …); and formats that narrow a type
 * (`int`, `email`, `uuid`, …).
 *
 * Not covered: refinements, transforms' code, length/range/regex checks, default values (a default may
 * be computed, e.g. `() => new Date()`, and stored entries hold parsed output anyway), descriptions and
 * error messages. Types this walker does not know are described by their zod `def.type` name alone.
 * A change the fingerprint misses can only serve an old-shape entry; a spurious change only costs a
 * cold cache, so the walk errs on the side of describing more.
 */
export function schemaFingerprint(fields: DocumentFields): string {
  return createHash("sha256").update(schemaDescription(fields)).digest("hex").slice(0, FINGERPRINT_LENGTH);
}

/** The canonical text the fingerprint hashes; useful to see why two fingerprints differ. */
export function schemaDescription(fields: DocumentFields): string {
  const root: unknown = fields;
  if (!isSchema(root)) throw new TypeError("schemaFingerprint expects a zod 4 schema");
  return `v${DESCRIPTION_VERSION}:${canonicalJson(describe(root, []))}`;
}

/** A JSON-able description; plain objects are serialized with sorted keys. */
type Description = string | number | boolean | null | Description[] | { [key: string]: Description };

/** The part of a zod 4 schema the walk reads (`schema._zod.def`, `schema._zod.values`). */
interface SchemaLike {
  readonly _zod: { readonly def: Def; readonly values?: ReadonlySet<unknown> | undefined };
}
interface Def {
  readonly type: string;
  readonly [key: string]: unknown;
}

// Deep enough for any real document; a lazy schema that builds a new schema on every call would
// otherwise recurse forever. The cut-off is deterministic, so the fingerprint stays stable.
const MAX_DEPTH = 64;

// Wrappers with a single inner schema under `innerType`.
const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "nonoptional",
  "catch",
  "success",
  "readonly",
]);

// String "formats" that are constraints on a string rather than a kind of string.
const CONSTRAINT_FORMATS = new Set(["regex", "lowercase", "uppercase", "includes", "starts_with", "ends_with"]);

function describe(schema: SchemaLike, stack: SchemaLike[]): Description {
  // A schema already being described higher up is a recursive reference: name it by distance, which
  // is the same in every process, unlike object identity.
  const seen = stack.indexOf(schema);
  if (seen !== -1) return { type: "ref", up: stack.length - seen };
  if (stack.length >= MAX_DEPTH) return { type: "too_deep" };

  stack.push(schema);
  try {
    return describeDef(schema, stack);
  } finally {
    stack.pop();
  }
}

function describeDef(schema: SchemaLike, stack: SchemaLike[]): Description {
  const def = schema._zod.def;
  const type = def.type;
  const child = (key: string): Description => {
    const value = def[key];
    return isSchema(value) ? describe(value, stack) : null;
  };

  if (WRAPPERS.has(type)) return { type, of: child("innerType") };

  switch (type) {
    case "string":
    case "number":
    case "bigint": {
      const formats = formatsOf(def);
      return formats.length > 0 ? { type, formats } : { type };
    }
    case "object": {
      // Sorted [name, type] pairs: declaration order is irrelevant, and a field named "__proto__"
      // cannot go missing the way it would as a key of a plain object.
      const fields = isRecord(def.shape) ? def.shape : {};
      const shape = Object.keys(fields)
        .sort()
        .map((key): Description => {
          const field = fields[key];
          return [key, isSchema(field) ? describe(field, stack) : null];
        });
      // Strip (no catchall), strict (never) and loose (unknown) objects store different keys.
      return { type, shape, catchall: child("catchall") };
    }
    case "array":
      return { type, of: child("element") };
    case "set":
      return { type, of: child("valueType") };
    case "record":
    case "map":
      return { type, key: child("keyType"), value: child("valueType") };
    case "tuple":
      return { type, items: schemaList(def.items, stack), rest: child("rest") };
    case "union": {
      const described: { [key: string]: Description } = { type, of: schemaList(def.options, stack) };
      if (typeof def.discriminator === "string") described.discriminator = def.discriminator;
      return described;
    }
    case "intersection":
      return { type, of: [child("left"), child("right")] };
    case "pipe":
      return { type, of: [child("in"), child("out")] };
    case "enum":
    case "literal":
      return { type, values: literalValues(schema._zod.values) };
    case "lazy": {
      const getter = def.getter;
      const inner: unknown = typeof getter === "function" ? getter() : undefined;
      return { type, of: isSchema(inner) ? describe(inner, stack) : null };
    }
    case "template_literal":
      return {
        type,
        parts: Array.isArray(def.parts)
          ? def.parts.map((part: unknown) => (isSchema(part) ? describe(part, stack) : literal(part)))
          : [],
      };
    default:
      // boolean, date, null, undefined, any, unknown, never, nan, file, transform, custom, …
      return { type };
  }
}

/** The type-narrowing formats of a string/number/bigint, from the schema itself (`z.email()`) or its checks. */
function formatsOf(def: Def): string[] {
  const formats = new Set<string>();
  const add = (d: unknown): void => {
    if (!isRecord(d) || typeof d.format !== "string") return;
    const kind = d.check;
    if (kind === "number_format" || kind === "bigint_format" || kind === "string_format") {
      if (!CONSTRAINT_FORMATS.has(d.format)) formats.add(d.format);
    }
  };
  add(def);
  if (Array.isArray(def.checks)) {
    for (const check of def.checks) {
      if (isRecord(check) && isRecord(check._zod)) add(check._zod.def);
    }
  }
  return [...formats].sort();
}

function schemaList(value: unknown, stack: SchemaLike[]): Description[] {
  return Array.isArray(value) ? value.map((item: unknown) => (isSchema(item) ? describe(item, stack) : null)) : [];
}

function literalValues(values: ReadonlySet<unknown> | undefined): string[] {
  return values ? [...values].map(literal).sort() : [];
}

/** Tags each primitive with its type, so the literal 1 and the literal "1" stay distinct. */
function literal(value: unknown): string {
  return `${typeof value === "object" ? "null" : typeof value}:${String(value)}`;
}

function isSchema(value: unknown): value is SchemaLike {
  return isRecord(value) && isRecord(value._zod) && isRecord(value._zod.def) && typeof value._zod.def.type === "string";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function canonicalJson(value: Description): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

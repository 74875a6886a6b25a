import { describeValue, expectConfigObject, rejectUnknownKeys } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";
import { parseCacheSpec } from "./cache-spec.js";
import type { CacheSpecInput, DocumentFields, DocumentSpec } from "./document-spec.js";
import { fieldCodec } from "./field-codec.js";
import { schemaFingerprint } from "./schema-fingerprint.js";

/** What `defineDocument` accepts. */
export interface DefineDocumentInput<F extends DocumentFields = DocumentFields> {
  /** Lowercase identifier (`/^[a-z][a-z0-9_]*$/`, at most 63 characters): it may name a Postgres table. */
  readonly name: string;
  /** The document's own fields; `id`, `rev`, `createdAt` and `updatedAt` are added by stratacache. */
  readonly fields: F;
  /** Omit to leave the document uncached; `{}` caches it with every default. */
  readonly cache?: CacheSpecInput;
  /**
   * Rows belong to tenants: the table gets a `tenant` column (primary key `(tenant, id)`) that every statement
   * filters on, and the document can only be used from `runtime.context({ tenant })` (TenantRequiredError otherwise).
   * An id of tenant A read in tenant B's context is not found, from every tier. List the document in
   * `createRuntime({ documents })` so start() migrates the column.
   * @default false
   */
  readonly tenantScoped?: boolean;
  /**
   * Top-level fields stored encrypted in Postgres (AES-256-GCM with postgresModule's `encryption` keyring, bound to
   * table, id and field) and opened on read. Not queryable by value. Its cache route must encrypt too, so L2 never
   * holds them in clear.
   */
  readonly sealedFields?: ReadonlyArray<string>;
}

export const DOCUMENT_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
/** Postgres truncates identifiers beyond 63 bytes; two long names could silently collide. */
export const DOCUMENT_NAME_MAX_LENGTH = 63;
/** Field names stratacache owns on every document. */
export const RESERVED_FIELD_NAMES: ReadonlyArray<string> = Object.freeze(["id", "rev", "createdAt", "updatedAt"]);

const KEYS = ["name", "fields", "cache", "tenantScoped", "sealedFields"] as const;

/**
 * Declares a document type. Everything is validated here, at module load, so a bad spec fails the
 * deploy rather than the first read: a ConfigurationError names the offending path (`name`, `fields.id`,
 * `cache.l1.ttl`, …). The result is frozen and carries the fields' schema fingerprint.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { defineDocument } from "stratacache";
 *
 * export const products = defineDocument({
 *   name: "products",
 *   fields: z.object({ name: z.string(), price: z.number().int(), tags: z.array(z.string()).default([]) }),
 *   cache: { ttl: "5m", l1: { ttl: "2s", capacity: 10_000 }, grace: "1m" },
 * });
 * ```
 */
export function defineDocument<F extends DocumentFields>(input: DefineDocumentInput<F>): DocumentSpec<F> {
  const spec = expectConfigObject(input, "", '{ name: "products", fields: z.object({ … }) }');
  rejectUnknownKeys(spec, KEYS, "");

  const name = parseName(spec.name);
  const fields = parseFields(spec.fields) as F;
  // Refuses types that cannot round-trip through JSON now, and derives the Date/bigint codec once.
  fieldCodec(fields);
  const cache = spec.cache === undefined ? undefined : parseCacheSpec(spec.cache, name);
  const tenantScoped = spec.tenantScoped ?? false;
  if (typeof tenantScoped !== "boolean") {
    throw new ConfigurationError("tenantScoped", `must be a boolean (got ${describeValue(tenantScoped)})`);
  }
  const sealedFields = parseSealedFields(spec.sealedFields, fields);
  return Object.freeze({
    name,
    fields,
    cache,
    fingerprint: schemaFingerprint(fields),
    ...(tenantScoped ? { tenantScoped } : {}),
    ...(sealedFields.length > 0 ? { sealedFields } : {}),
  });
}

function parseSealedFields(value: unknown, fields: DocumentFields): ReadonlyArray<string> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new ConfigurationError("sealedFields", `must be an array of field names (got ${describeValue(value)})`);
  }
  value.forEach((field: unknown, i) => {
    if (typeof field !== "string" || !Object.hasOwn(fields.shape, field)) {
      throw new ConfigurationError(`sealedFields[${i}]`, `must name a top-level field (got ${describeValue(field)})`);
    }
  });
  return Object.freeze([...new Set(value as string[])]);
}

function parseName(value: unknown): string {
  if (typeof value !== "string") {
    throw new ConfigurationError("name", `must be a string (got ${describeValue(value)})`);
  }
  if (!DOCUMENT_NAME_PATTERN.test(value)) {
    throw new ConfigurationError(
      "name",
      `must start with a lowercase letter and contain only lowercase letters, digits and "_" (got ${describeValue(value)})`,
    );
  }
  if (value.length > DOCUMENT_NAME_MAX_LENGTH) {
    throw new ConfigurationError(
      "name",
      `must be at most ${DOCUMENT_NAME_MAX_LENGTH} characters (got ${value.length})`,
    );
  }
  return value;
}

function parseFields(value: unknown): DocumentFields {
  // Structural rather than `instanceof`: two copies of zod in node_modules must not make a valid
  // schema look foreign. `safeParse` and `shape` are what the rest of stratacache relies on.
  const unusable = unusableFields(value);
  if (unusable !== undefined) throw new ConfigurationError("fields", unusable);
  if (!isZodObject(value)) {
    const type = zodType(value);
    const got = type === undefined ? describeValue(value) : `a zod ${type}`;
    throw new ConfigurationError("fields", `must be a zod object such as z.object({ … }) (got ${got})`);
  }
  for (const reserved of RESERVED_FIELD_NAMES) {
    if (Object.hasOwn(value.shape, reserved)) {
      throw new ConfigurationError(
        `fields.${reserved}`,
        `is reserved: every document gets ${RESERVED_FIELD_NAMES.join(", ")} from stratacache`,
      );
    }
  }
  return value;
}

/**
 * Why a schema that looks usable is not, with what to do instead; undefined for anything else. Updates are validated
 * with `fields.partial()`, and entries hold parsed values, so the top level must be a plain zod 4 object.
 */
function unusableFields(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (!("_zod" in value) && "_def" in value && typeof (value as { safeParse?: unknown }).safeParse === "function") {
    return (
      "is a zod 3 schema; stratacache reads zod 4 schemas only: " +
      'build it with zod 4 (`import { z } from "zod"` with zod >= 4, or "zod/v4" from zod 3.25)'
    );
  }
  const def = (value as { _zod?: { def?: { type?: unknown; checks?: unknown } } })._zod?.def;
  if (def?.type === "object" && Array.isArray(def.checks) && def.checks.length > 0) {
    return (
      "has checks at the top level (.refine(), .superRefine() or .check()), which an update's partial patch cannot " +
      "run: move each rule onto the field it checks, or check cross-field rules in your code before create/update"
    );
  }
  if (def?.type === "pipe") {
    return (
      "is a pipe (.transform() or .pipe() at the top level), which an update's partial patch cannot run and whose " +
      "output a read cannot re-create: use a plain z.object({ … }) and transform the document after reading it"
    );
  }
  return undefined;
}

function isZodObject(value: unknown): value is DocumentFields {
  if (zodType(value) !== "object") return false;
  const candidate = value as Partial<Record<"shape" | "safeParse", unknown>>;
  return typeof candidate.shape === "object" && candidate.shape !== null && typeof candidate.safeParse === "function";
}

/** The zod 4 `def.type` of a schema ("object", "string", …), or undefined for anything else. */
function zodType(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const internals = (value as { _zod?: { def?: { type?: unknown } } })._zod;
  const type = internals?.def?.type;
  return typeof type === "string" ? type : undefined;
}

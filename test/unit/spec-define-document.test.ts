import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { type DefineDocumentInput, defineDocument, RESERVED_FIELD_NAMES } from "../../src/spec/define-document.js";
import type { CreateInput, Doc, DocumentSpec } from "../../src/spec/document-spec.js";
import { schemaFingerprint } from "../../src/spec/schema-fingerprint.js";
import { expectConfigurationError } from "../support/throws.js";

const fields = z.object({ name: z.string(), price: z.number().int() });

/** Asserts that `input` is refused with a ConfigurationError at `path`; returns the message. */
function rejects(input: unknown, path: string): string {
  return expectConfigurationError(() => defineDocument(input as DefineDocumentInput), {
    code: "CONFIGURATION",
    path,
    messageStartsWithPath: true,
  }).message;
}

describe("defineDocument", () => {
  it("returns a frozen spec with the fields, fingerprint and no cache when cache is omitted", () => {
    const spec = defineDocument({ name: "products", fields });
    expect(spec).toEqual({ name: "products", fields, cache: undefined, fingerprint: schemaFingerprint(fields) });
    expect(spec.fields).toBe(fields);
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it("resolves the cache spec, defaulting its name to the document name", () => {
    const spec = defineDocument({
      name: "products",
      fields,
      cache: { ttl: "5m", l1: { ttl: "2s", capacity: 1024, policy: "tinylfu" } },
    });
    expect(spec.cache).toEqual({
      name: "products",
      ttlMs: 300_000,
      l1: { ttlMs: 2_000, capacity: 1024, policy: "tinylfu" },
      earlyRefresh: undefined,
      ageTtl: undefined,
      slidingTtlMs: undefined,
      graceMs: 0,
    });
    expect(Object.isFrozen(spec.cache)).toBe(true);
  });

  it("caches with every default for cache: {}", () => {
    expect(defineDocument({ name: "products", fields, cache: {} }).cache?.ttlMs).toBe(300_000);
  });

  it("types the spec and its documents from the fields", () => {
    const spec = defineDocument({ name: "products", fields });
    expectTypeOf(spec).toEqualTypeOf<DocumentSpec<typeof fields>>();
    expectTypeOf<Doc<typeof spec>["price"]>().toEqualTypeOf<number>();
    expectTypeOf<Doc<typeof spec>["rev"]>().toEqualTypeOf<number>();
    expectTypeOf<CreateInput<typeof spec>>().toHaveProperty("name");
  });

  it("rejects an argument that is not an object", () => {
    for (const value of [undefined, null, "products", []]) rejects(value, "");
  });

  it("rejects unknown top-level keys, naming the key", () => {
    expect(rejects({ name: "products", fields, cach: {} }, "cach")).toContain("did you mean cache?");
    rejects({ name: "products", fields, table: "products" }, "table");
  });
});

describe("defineDocument name", () => {
  it.each(["products", "a", "order_items", "v2_events", "a".repeat(63)])("accepts %s", (name) => {
    expect(defineDocument({ name, fields }).name).toBe(name);
  });

  it.each(["", "Products", "1products", "_products", "order-items", "order items", "prödukt", "a".repeat(64)])(
    "rejects %j",
    (name) => {
      rejects({ name, fields }, "name");
    },
  );

  it.each([undefined, 5, null, {}])("rejects the non-string %s", (name) => {
    rejects({ name, fields }, "name");
  });
});

describe("defineDocument fields", () => {
  it.each([
    ["undefined", undefined],
    ["a plain object", { name: z.string() }],
    ["a zod string", z.string()],
    ["a zod array", z.array(z.object({ a: z.string() }))],
    ["a zod union of objects", z.union([z.object({ a: z.string() }), z.object({ b: z.string() })])],
  ])("rejects %s", (_label, value) => {
    expect(rejects({ name: "products", fields: value }, "fields")).toContain("zod object");
  });

  it("accepts strict, loose and empty objects", () => {
    for (const shape of [z.strictObject({ a: z.string() }), z.looseObject({ a: z.string() }), z.object({})]) {
      expect(defineDocument({ name: "products", fields: shape }).fields).toBe(shape);
    }
  });

  it.each(["id", "rev", "createdAt", "updatedAt"])("rejects the reserved field %s", (reserved) => {
    const message = rejects(
      { name: "products", fields: z.object({ ok: z.string(), [reserved]: z.string() }) },
      `fields.${reserved}`,
    );
    expect(message).toContain("reserved");
  });

  it("reserves exactly id, rev, createdAt and updatedAt", () => {
    expect(RESERVED_FIELD_NAMES).toEqual(["id", "rev", "createdAt", "updatedAt"]);
  });

  it("allows reserved names nested inside a field", () => {
    const nested = z.object({ owner: z.object({ id: z.string(), rev: z.number() }) });
    expect(defineDocument({ name: "products", fields: nested }).fields).toBe(nested);
  });
});

describe("defineDocument cache", () => {
  it("reports cache errors with their full path", () => {
    expect(rejects({ name: "products", fields, cache: { ttl: "1m", l1: { ttl: "1m" } } }, "cache.l1.ttl")).toBe(
      "cache.l1.ttl must be shorter than cache.ttl (got 1m, cache.ttl is 1m)",
    );
    rejects({ name: "products", fields, cache: { tll: "5m" } }, "cache.tll");
  });

  it.each([null, true, false, "5m", 0])("rejects cache = %s", (cache) => {
    rejects({ name: "products", fields, cache }, "cache");
  });

  it("validates the name before the cache, so the default cache name is always valid", () => {
    rejects({ name: "Bad", fields, cache: {} }, "name");
  });
});

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { DocumentFields } from "../../src/spec/document-spec.js";
import { schemaDescription, schemaFingerprint } from "../../src/spec/schema-fingerprint.js";

const base = () =>
  z.object({
    name: z.string(),
    price: z.number().int(),
    tags: z.array(z.string()).optional(),
    dims: z.object({ w: z.number(), h: z.number() }),
  });

const fp = schemaFingerprint;

describe("schemaFingerprint", () => {
  it("is 12 lowercase hex characters", () => {
    expect(fp(base())).toMatch(/^[0-9a-f]{12}$/);
  });

  it("is the same for separately built, identical shapes", () => {
    expect(fp(base())).toBe(fp(base()));
  });

  it("does not depend on key declaration order, at any depth", () => {
    const reordered = z.object({
      dims: z.object({ h: z.number(), w: z.number() }),
      tags: z.array(z.string()).optional(),
      price: z.number().int(),
      name: z.string(),
    });
    expect(fp(reordered)).toBe(fp(base()));
  });

  it("is the same in another process", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const module = new URL("../../src/spec/schema-fingerprint.ts", import.meta.url).href;
    // Declared in another order, too: the child must agree on the shape, not on object identity.
    const script = `
      import { z } from "zod";
      import { schemaFingerprint } from ${JSON.stringify(module)};
      const fields = z.object({
        dims: z.object({ h: z.number(), w: z.number() }),
        name: z.string(),
        price: z.int(),
        tags: z.array(z.string()).optional(),
      });
      process.stdout.write(schemaFingerprint(fields));
    `;
    const output = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
    });
    expect(output).toBe(fp(base()));
  });

  const changes: ReadonlyArray<readonly [string, DocumentFields]> = [
    ["a renamed field", base().omit({ name: true }).extend({ title: z.string() })],
    ["an added field", base().extend({ sku: z.string() })],
    ["a removed field", base().omit({ tags: true })],
    ["a changed type", base().extend({ name: z.number() })],
    ["number instead of int", base().extend({ price: z.number() })],
    ["a string format", base().extend({ name: z.email() })],
    ["a required field made optional", base().extend({ name: z.string().optional() })],
    ["an optional field made required", base().extend({ tags: z.array(z.string()) })],
    ["nullable", base().extend({ name: z.string().nullable() })],
    ["a default", base().extend({ name: z.string().default("x") })],
    ["a nested field's type", base().extend({ dims: z.object({ w: z.number(), h: z.string() }) })],
    ["a nested field's name", base().extend({ dims: z.object({ w: z.number(), height: z.number() }) })],
    ["a nested field's optionality", base().extend({ dims: z.object({ w: z.number(), h: z.number().optional() }) })],
    ["flattened nesting", base().omit({ dims: true }).extend({ w: z.number(), h: z.number() })],
    ["an array's element type", base().extend({ tags: z.array(z.number()).optional() })],
    ["an array of arrays", base().extend({ tags: z.array(z.array(z.string())).optional() })],
    ["a strict nested object", base().extend({ dims: z.strictObject({ w: z.number(), h: z.number() }) })],
    ["a loose nested object", base().extend({ dims: z.looseObject({ w: z.number(), h: z.number() }) })],
    ["a date", base().extend({ name: z.date() })],
    ["a record", base().extend({ dims: z.record(z.string(), z.number()) })],
    ["a tuple", base().extend({ dims: z.tuple([z.number(), z.number()]) })],
    ["a union", base().extend({ name: z.union([z.string(), z.number()]) })],
  ];

  it.each(changes)("changes for %s", (_label, changed) => {
    expect(fp(changed)).not.toBe(fp(base()));
  });

  it("tells every variation apart from every other", () => {
    const all = [fp(base()), ...changes.map(([, fields]) => fp(fields))];
    expect(new Set(all).size).toBe(all.length);
  });

  it("sees enum and literal values, and literal types", () => {
    const withEnum = (values: [string, ...string[]]) => fp(z.object({ s: z.enum(values) }));
    expect(withEnum(["a", "b"])).toBe(withEnum(["b", "a"]));
    expect(withEnum(["a", "b"])).not.toBe(withEnum(["a", "c"]));
    expect(withEnum(["a", "b"])).not.toBe(withEnum(["a", "b", "c"]));
    expect(fp(z.object({ v: z.literal(1) }))).not.toBe(fp(z.object({ v: z.literal("1") })));
    expect(fp(z.object({ v: z.literal(1) }))).not.toBe(fp(z.object({ v: z.literal(2) })));
  });

  it("sees union options and discriminated unions", () => {
    const a = z.object({ kind: z.literal("a"), x: z.number() });
    const b = z.object({ kind: z.literal("b"), y: z.string() });
    const b2 = z.object({ kind: z.literal("b"), y: z.number() });
    expect(fp(z.object({ u: z.union([a, b]) }))).not.toBe(fp(z.object({ u: z.union([a, b2]) })));
    expect(fp(z.object({ u: z.discriminatedUnion("kind", [a, b]) }))).not.toBe(
      fp(z.object({ u: z.discriminatedUnion("kind", [a, b2]) })),
    );
    expect(fp(z.object({ u: z.discriminatedUnion("kind", [a, b]) }))).not.toBe(fp(z.object({ u: z.union([a, b]) })));
  });

  it("ignores refinements, value checks, default values and descriptions (documented)", () => {
    const plain = fp(z.object({ n: z.number(), s: z.string(), d: z.number().default(1) }));
    const checked = fp(
      z.object({
        n: z.number().min(0).max(10),
        s: z
          .string()
          .min(3)
          .regex(/x/)
          .refine((v) => v !== "bad")
          .describe("a string"),
        d: z.number().default(2),
      }),
    );
    expect(checked).toBe(plain);
  });

  it("is stable for computed defaults", () => {
    const fields = () =>
      z.object({ at: z.date().default(() => new Date()), id2: z.string().default(() => `${Math.random()}`) });
    expect(fp(fields())).toBe(fp(fields()));
  });

  it("describes recursive schemas finitely and stably", () => {
    type Category = { name: string; children: Category[] };
    const build = (): z.ZodType<Category> => {
      const category: z.ZodType<Category> = z.object({
        name: z.string(),
        get children() {
          return z.array(category);
        },
      });
      return category;
    };
    const fields = () => z.object({ root: build() });
    expect(fp(fields())).toBe(fp(fields()));
    expect(schemaDescription(fields())).toContain('"ref"');

    type Node = { value: number; next?: Node | undefined };
    const node: z.ZodType<Node> = z.lazy(() => z.object({ value: z.number(), next: node.optional() }));
    const list = z.object({ head: node });
    expect(fp(list)).toMatch(/^[0-9a-f]{12}$/);
    expect(fp(list)).not.toBe(fp(fields()));
  });

  it("exposes the canonical description it hashes", () => {
    expect(schemaDescription(z.object({ b: z.string(), a: z.number().optional() }))).toBe(
      'v1:{"catchall":null,"shape":[["a",{"of":{"type":"number"},"type":"optional"}],["b",{"type":"string"}]],"type":"object"}',
    );
  });
});

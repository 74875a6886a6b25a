/**
 * `defineDocument` refuses a `fields` schema the library cannot use, at definition time, with a message that says
 * why and what to do instead: a zod 3 object, and top-level refinements, checks, transforms and pipes (updates are
 * validated with `fields.partial()`, which zod refuses for refined objects, and cannot run a transform).
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { z as z3 } from "zod/v3";
import { type ConfigurationError, defineDocument } from "../../src/index.js";
import type { DocumentFields } from "../../src/spec/document-spec.js";
import { expectConfigurationError } from "../support/throws.js";

function refusal(fields: unknown): ConfigurationError {
  return expectConfigurationError(() => defineDocument({ name: "products", fields: fields as DocumentFields }), {
    path: "fields",
  });
}

const plain = { low: z.number(), high: z.number() };

describe("fields the library cannot use", () => {
  it("a zod 3 object is refused as zod 3, with the way to build a zod 4 one", () => {
    const error = refusal(z3.object({ name: z3.string() }));
    expect(error.message).toContain("zod 3");
    expect(error.message).toContain("zod 4");
  });

  it.each([
    ["refine", z.object(plain).refine((v) => v.low <= v.high)],
    ["superRefine", z.object(plain).superRefine(() => {})],
    ["check", z.object(plain).check(z.refine(() => true))],
  ])("a top-level .%s() is refused, saying to move the rule onto a field or into the caller's code", (_, fields) => {
    const error = refusal(fields);
    expect(error.message).toContain(".refine()");
    expect(error.message).toMatch(/partial patch/);
    expect(error.message).toMatch(/move each rule onto the field/);
  });

  it.each([
    ["transform", z.object(plain).transform((v) => ({ ...v, span: v.high - v.low }))],
    ["pipe", z.object(plain).pipe(z.object(plain))],
  ])("a top-level .%s() is refused as a pipe, saying to transform after reading", (_, fields) => {
    const error = refusal(fields);
    expect(error.message).toContain(".transform()");
    expect(error.message).toContain("plain z.object");
  });

  it("refinements inside fields stay allowed (the patch validates each present field whole)", () => {
    const fields = z.object({ range: z.object(plain).refine((v) => v.low <= v.high), name: z.string().min(1) });
    expect(defineDocument({ name: "products", fields }).fields).toBe(fields);
  });
});

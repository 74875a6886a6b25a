/**
 * findJsonIssue: every JSON value passes; what JSON or Postgres jsonb would refuse or change is found, with its path.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findJsonIssue, MAX_JSON_DEPTH } from "../../src/spec/json-value.js";

const pg = { postgresStrings: true };
const noNul = (value: unknown) => !JSON.stringify(value).includes("\\u0000");

describe("findJsonIssue", () => {
  it("accepts every JSON value whose strings Postgres can hold", () => {
    const text = fc.string({ unit: "grapheme" }).filter((s) => !s.includes("\u0000"));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6, stringUnit: "grapheme" }).filter(noNul), text, (value, extra) => {
        expect(findJsonIssue({ value, extra }, pg)).toBeUndefined();
      }),
    );
  });

  it("finds a NUL or a lone surrogate anywhere, in values and keys, with its path", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.constantFrom("\u0000", "\ud800", "\udfff"),
        fc.boolean(),
        (before, after, bad, inKey) => {
          const text = `${before}${bad}${after}`;
          const value = inKey ? { list: [{ [text]: 1 }] } : { list: [{ k: text }] };
          const issue = findJsonIssue(value, pg);
          expect(issue?.code).toBe("invalid_text");
          expect(issue?.path).toEqual(["list", 0, inKey ? text : "k"]);
          expect(findJsonIssue(value, { postgresStrings: false })).toBeUndefined();
        },
      ),
    );
  });

  it.each([
    ["a bigint", { a: 1n }, "not_json", ["a"]],
    ["NaN", { a: [1, Number.NaN] }, "not_json", ["a", 1]],
    ["Infinity", { a: Number.NEGATIVE_INFINITY }, "not_json", ["a"]],
    ["a function", { a: () => 1 }, "not_json", ["a"]],
    ["a symbol", { a: Symbol("s") }, "not_json", ["a"]],
    ["undefined in an array", { a: [undefined] }, "not_json", ["a", 0]],
    ["a Map", { a: new Map() }, "not_json", ["a"]],
    ["a Set", { a: new Set() }, "not_json", ["a"]],
    ["an invalid Date", { a: new Date(Number.NaN) }, "not_json", ["a"]],
  ])("refuses %s", (_what, value, code, path) => {
    expect(findJsonIssue(value, pg)).toMatchObject({ code, path });
  });

  it("accepts Dates and undefined properties, refuses cycles, and bounds depth", () => {
    expect(findJsonIssue({ at: new Date(0), gone: undefined }, pg)).toBeUndefined();
    const circular: Record<string, unknown> = { a: [{}] };
    (circular.a as Array<Record<string, unknown>>)[0]!.back = circular;
    expect(findJsonIssue(circular, pg)).toMatchObject({ code: "circular", path: ["a", 0, "back"] });
    expect(findJsonIssue(circular, { postgresStrings: false, structureOnly: true })?.code).toBe("circular");
    // A shared (not circular) object is fine.
    const shared = { x: 1 };
    expect(findJsonIssue({ a: shared, b: [shared, shared] }, pg)).toBeUndefined();
    const nest = (depth: number) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    };
    expect(findJsonIssue(nest(MAX_JSON_DEPTH), pg)).toBeUndefined();
    expect(findJsonIssue(nest(MAX_JSON_DEPTH + 1), pg)?.code).toBe("too_deep");
    expect(findJsonIssue(nest(5_000), { postgresStrings: false, structureOnly: true })?.code).toBe("too_deep");
  });
});

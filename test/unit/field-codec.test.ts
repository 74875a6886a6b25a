/**
 * The field codec derived from a document's zod fields: types JSON cannot carry are refused at defineDocument (a
 * ConfigurationError naming the field), plain schemas get no codec (no work on a cache hit), and Date/bigint
 * positions are revived wherever they are declared, recursive schemas included.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigurationError, defineDocument } from "../../src/index.js";
import { fieldCodec } from "../../src/spec/field-codec.js";

describe("field codec", () => {
  it.each([
    ["a Map", z.object({ m: z.map(z.string(), z.number()) }), "fields.m"],
    ["a Set", z.object({ s: z.set(z.string()) }), "fields.s"],
    ["NaN", z.object({ n: z.nan() }), "fields.n"],
    ["a symbol", z.object({ s: z.symbol() }), "fields.s"],
    ["a nested Map", z.object({ a: z.array(z.object({ m: z.map(z.string(), z.string()) })) }), "fields.a[].m"],
    ["a Map after a Date", z.object({ d: z.date(), m: z.map(z.string(), z.string()) }), "fields.m"],
    ["a union with a Date", z.object({ u: z.union([z.date(), z.string()]) }), "fields.u"],
  ])("refuses %s at defineDocument with a ConfigurationError naming it", (_what, fields, path) => {
    let error: unknown;
    try {
      defineDocument({ name: "things", fields });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).path).toBe(path);
  });

  it("gives plain JSON schemas no codec, recursive ones included", () => {
    interface Tree {
      name: string;
      children: Tree[];
    }
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(tree) }));
    expect(fieldCodec(z.object({ a: z.string(), b: z.array(z.number()), c: z.any(), t: tree }))).toBeUndefined();
  });

  it("revives dates in a recursive schema at every depth, and encodes bigints as strings", () => {
    interface Node {
      at: Date;
      size: bigint;
      kids: Node[];
    }
    const node: z.ZodType<Node> = z.lazy(() => z.object({ at: z.date(), size: z.bigint(), kids: z.array(node) }));
    const codec = fieldCodec(z.object({ root: node }));
    expect(codec).toBeDefined();
    const stored = {
      root: {
        at: "2020-01-01T00:00:00.000Z",
        size: "5",
        kids: [{ at: "1970-01-01T00:00:00.000Z", size: "-1", kids: [] }],
      },
    };
    expect(codec!.revive(stored)).toEqual({
      root: { at: new Date("2020-01-01T00:00:00.000Z"), size: 5n, kids: [{ at: new Date(0), size: -1n, kids: [] }] },
    });
    // The stored object itself is left alone (L2 bodies are encoded from it).
    expect(stored.root.at).toBe("2020-01-01T00:00:00.000Z");
    expect(codec!.encode({ root: { at: new Date(0), size: 12n, kids: [] } })).toEqual({
      root: { at: new Date(0), size: "12", kids: [] },
    });
  });

  it("applies a catchall's codec to undeclared keys only", () => {
    const codec = fieldCodec(z.object({ name: z.string() }).catchall(z.date()));
    expect(codec!.revive({ name: "2020-01-01T00:00:00.000Z", extra: "2020-01-01T00:00:00.000Z" })).toEqual({
      name: "2020-01-01T00:00:00.000Z",
      extra: new Date("2020-01-01T00:00:00.000Z"),
    });
  });

  it("follows pipes to their output (a zod codec from an ISO string to a Date)", () => {
    const isoDate = z.codec(z.iso.datetime(), z.date(), {
      decode: (text) => new Date(text),
      encode: (date) => date.toISOString(),
    });
    const codec = fieldCodec(z.object({ at: isoDate }));
    expect(codec!.revive({ at: "2020-01-01T00:00:00.000Z" })).toEqual({ at: new Date("2020-01-01T00:00:00.000Z") });
  });
});

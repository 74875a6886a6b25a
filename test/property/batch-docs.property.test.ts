/**
 * BatchDocs, the documents of one batch read: what is stored by index or by id reads back by id as from a Map, every
 * id of the batch has a slot (undefined until set: no holes in the copies callers get), and ids outside it are refused.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchDocs } from "../../src/read-through/batch-docs.js";
import type { FrozenDocument } from "../../src/read-through/document-codec.js";

const doc = (n: number) => ({ n }) as unknown as FrozenDocument;
type Op = { kind: "at" | "set"; pick: number; value: number | undefined } | { kind: "get"; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("at" as const, "set" as const),
    pick: fc.nat(),
    value: fc.option(fc.nat(9), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant("get" as const), pick: fc.nat() }),
);

describe("BatchDocs", () => {
  it("reads back by id whatever was stored by index or by id, as a Map would", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 12 }),
        fc.array(op, { maxLength: 40 }),
        (ids, ops) => {
          const docs = new BatchDocs(ids);
          const model = new Map<string, FrozenDocument | undefined>();
          for (const o of ops) {
            const i = o.pick % ids.length;
            const id = ids[i]!;
            if (o.kind === "get") expect(docs.get(id)).toBe(model.get(id));
            else {
              const value = o.value === undefined ? undefined : doc(o.value);
              if (o.kind === "at") docs.values[i] = value;
              else docs.set(id, value);
              model.set(id, value);
            }
          }
          for (const [i, id] of ids.entries()) {
            expect(docs.get(id)).toBe(model.get(id));
            expect(docs.values[i]).toBe(model.get(id));
          }
          expect(Object.keys(docs.values.slice())).toHaveLength(ids.length); // no holes
          expect(docs.get("not-an-id-of-it")).toBeUndefined();
          expect(() => docs.set("not-an-id-of-it", undefined)).toThrow();
        },
      ),
    );
  });
});

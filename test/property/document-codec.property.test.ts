/**
 * The L2 body codec: whatever fields a row holds, the document decoded from its body is the document built from the
 * row itself (meta winning over fields of the same name), deep-frozen; a body of another id or rev is no document.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBody, documentFromRow, encodeBody } from "../../src/read-through/document-codec.js";
import type { StoredRow } from "../../src/repository/document-repository.js";

const META = ["id", "rev", "createdAt", "updatedAt"];
/** Field names, biased towards the meta names a document's fields may shadow. */
const fieldName = fc.oneof(fc.constantFrom(...META), fc.string({ maxLength: 8 }));
/** JSON as Postgres' jsonb hands it back (no undefined, no -0, finite numbers). */
const jsonValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);
const row: fc.Arbitrary<StoredRow> = fc.record({
  id: fc.uuid().map((id) => id.toLowerCase()),
  rev: fc.integer({ min: 1, max: 1e9 }),
  incarnation: fc.integer({ min: 1, max: 1e9 }),
  createdAt: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms)),
  updatedAt: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms)),
  data: fc.dictionary(fieldName, jsonValue, { maxKeys: 6 }),
});

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe("document body codec", () => {
  it("decodes every row's body to the row's document, meta first-class and deep-frozen", () => {
    fc.assert(
      fc.property(row, (r) => {
        const body = encodeBody(r);
        const doc = decodeBody(body, r.id, r.rev);
        const expected = documentFromRow(r);
        expect(doc).toEqual(expected);
        // The same members in the same order as the plain encoding (a spread copy, meta last) decodes to.
        const plain = decodeBody(
          JSON.stringify({ ...r.data, id: r.id, rev: r.rev, createdAt: +r.createdAt, updatedAt: +r.updatedAt }),
          r.id,
          r.rev,
        );
        expect(Object.keys(doc ?? {})).toEqual(Object.keys(plain ?? {}));
        expect(doc?.createdAt).toBeInstanceOf(Date);
        expect(isDeepFrozen(doc)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("a body read under another id or rev is not a document", () => {
    fc.assert(
      fc.property(row, fc.uuid(), (r, other) => {
        const body = encodeBody(r);
        fc.pre(other.toLowerCase() !== r.id);
        expect(decodeBody(body, other.toLowerCase(), r.rev)).toBeUndefined();
        expect(decodeBody(body, r.id, r.rev + 1)).toBeUndefined();
      }),
    );
  });

  it("a row without fields encodes to the meta alone", () => {
    const r: StoredRow = {
      id: "00000000-0000-4000-8000-000000000001",
      rev: 3,
      incarnation: 1,
      createdAt: new Date(5),
      updatedAt: new Date(7),
      data: {},
    };
    expect(JSON.parse(encodeBody(r))).toEqual({ id: r.id, rev: 3, createdAt: 5, updatedAt: 7 });
  });
});

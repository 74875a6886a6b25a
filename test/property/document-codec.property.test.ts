/**
 * The L2 body codec: whatever fields a row holds, the document decoded from its body is the document built from the
 * row itself (meta winning over fields of the same name), deep-frozen; a body of another id or rev is no document.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { EntryRead } from "../../src/l2/document-entry.js";
import {
  decodeBody,
  decodeParsed,
  documentFromRow,
  encodeBody,
  parseBodies,
} from "../../src/read-through/document-codec.js";
import type { StoredRow } from "../../src/repository/document-repository.js";
import { fieldCodec } from "../../src/spec/field-codec.js";

const META = ["id", "rev", "createdAt", "updatedAt"];
/** Field names, biased towards the meta names a document's fields may shadow. */
const fieldName = fc.oneof(fc.constantFrom(...META), fc.string({ maxLength: 8 }));
/** JSON as Postgres' jsonb hands it back (no undefined, no -0, finite numbers). */
const jsonValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);
/** Rows; about half never updated (both timestamps one instant), as a row is until its first update. */
const row: fc.Arbitrary<StoredRow> = fc
  .record({
    id: fc.uuid().map((id) => id.toLowerCase()),
    rev: fc.integer({ min: 1, max: 1e9 }),
    incarnation: fc.integer({ min: 1, max: 1e9 }),
    created: fc.integer({ min: 0, max: 4e12 }),
    updated: fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }),
    data: fc.dictionary(fieldName, jsonValue, { maxKeys: 6 }),
  })
  .map(({ created, updated, ...r }) => ({
    ...r,
    createdAt: new Date(created),
    updatedAt: new Date(updated ?? created),
  }));

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
        // One instant, one Date (a document never updated); two instants, two Dates.
        expect(doc?.createdAt === doc?.updatedAt).toBe(+r.createdAt === +r.updatedAt);
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

  it("a batch parsed at once decodes each entry as decodeBody does, whatever is corrupt among them", () => {
    /** What a read of `r` may hold: its body, a broken or foreign one, or no entry at all. */
    const slot = row.chain((r) =>
      fc
        .oneof(
          fc.constant((body: string): string | EntryRead => body),
          fc.nat(40).map((cut) => (body: string) => body.slice(0, Math.max(0, body.length - 1 - cut))),
          fc.constant((body: string) => `${body},${body}`),
          fc.constant((body: string) => `${body} `),
          fc.constant((body: string) => `[${body}]`),
          fc.constant((body: string) => body.replace(r.id, "00000000-0000-4000-8000-000000000000")),
          fc.constantFrom<EntryRead>("miss", "tombstone", "corrupt").map((state) => (_body: string) => state),
        )
        .map((shape) => ({ r, held: shape(encodeBody(r)) })),
    );
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 12 }), (slots) => {
        const reads: EntryRead[] = slots.map(({ r, held }) =>
          typeof held === "string" && !["miss", "tombstone", "corrupt"].includes(held)
            ? { incarnation: 1, rev: r.rev, fetchedAt: 0, delta: 0, freshUntil: 0, body: held }
            : (held as EntryRead),
        );
        const parsed = parseBodies(reads);
        if (parsed !== undefined) expect(parsed).toHaveLength(reads.length);
        reads.forEach((read, i) => {
          if (typeof read === "string") return;
          const { r } = slots[i]!;
          const one = decodeBody(read.body, r.id, r.rev);
          const batched =
            parsed?.[i] === undefined ? decodeBody(read.body, r.id, r.rev) : decodeParsed(parsed[i], r.id, r.rev);
          expect(batched).toEqual(one);
          if (one !== undefined) expect(isDeepFrozen(batched)).toBe(true);
        });
        // Two or more entries, every one whole (each decodes, `{…}` with nothing around): one parse served them.
        const entries = reads.flatMap((read, i) => (typeof read === "string" ? [] : [{ read, r: slots[i]!.r }]));
        const whole = entries.every(
          ({ read, r }) => /^\{.*\}$/s.test(read.body) && decodeBody(read.body, r.id, r.rev) !== undefined,
        );
        if (entries.length >= 2 && whole) expect(parsed).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it("a batch parsed at once revives a codec's Dates and bigints as decodeBody does, each document its own", () => {
    const codec = fieldCodec(z.object({ at: z.date(), big: z.bigint(), list: z.array(z.object({ when: z.date() })) }));
    if (codec === undefined) throw new Error("expected a codec for z.date()/z.bigint() fields");
    const stored = fc.record({
      at: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()),
      big: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
      list: fc.array(fc.record({ when: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()) }), {
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(row, stored), { minLength: 2, maxLength: 8 }), (pairs) => {
        const rows = pairs.map(([r, data]) => ({ ...r, data }));
        const reads: EntryRead[] = rows.map((r) => ({
          incarnation: 1,
          rev: r.rev,
          fetchedAt: 0,
          delta: 0,
          freshUntil: 0,
          body: encodeBody(r),
        }));
        const parsed = parseBodies(reads);
        expect(parsed).toBeDefined();
        const docs = rows.map((r, i) => decodeParsed(parsed?.[i], r.id, r.rev, codec));
        rows.forEach((r, i) => {
          const alone = decodeBody(encodeBody(r), r.id, r.rev, codec);
          expect(docs[i]).toEqual(alone);
          expect(docs[i]?.at).toBeInstanceOf(Date);
          expect(typeof docs[i]?.big).toBe("bigint");
          expect(isDeepFrozen(docs[i])).toBe(true);
        });
      }),
      { numRuns: 200 },
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

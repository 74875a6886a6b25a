/**
 * The id check is a byte table plus a hand-written char loop (it runs for every id of every read): it must accept
 * and canonicalise exactly what the 8-4-4-4-12 hex pattern accepts, in any case. The near-UUIDs include non-ASCII
 * characters whose low seven bits are a hex digit or a dash (° is 0xB0, á 0xE1, soft hyphen 0xAD), ones whose low
 * byte is one (š is U+0161, Ĳ U+0132, ĭ U+012D), and the two halves of a surrogate pair alone: the shapes a check
 * on a char's low byte, or on its bytes written as latin1, would let through.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/kernel/errors.js";
import { checkDocumentId, isDocumentId } from "../../src/repository/document-id.js";

const PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Near-UUIDs: the right shape most of the time, with characters drawn from around the hex ranges' edges. */
const chars = fc.constantFrom(
  ..."0123456789abcdefABCDEF-gG/:@`{}xZ \u00b0\u00e1\u2010\u0430\uff10\u00ad\u0161\u0132\u012d\ud835\udfce".split(""),
);
const nearUuid = fc.oneof(
  fc.array(chars, { minLength: 36, maxLength: 36 }).map((a) => a.join("")),
  fc
    .uuid()
    .chain((u) =>
      fc
        .tuple(fc.nat(35), chars, fc.boolean())
        .map(([at, c, upper]) => (upper ? u.toUpperCase() : u).slice(0, at) + c + u.slice(at + 1)),
    ),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.string({ maxLength: 40 }),
);

describe("document id check", () => {
  it("accepts exactly the UUID pattern, in any case, and returns the lower-case form", () => {
    fc.assert(
      fc.property(nearUuid, (value) => {
        expect(isDocumentId(value)).toBe(PATTERN.test(value));
        if (PATTERN.test(value)) expect(checkDocumentId("d", value)).toBe(value.toLowerCase());
        else expect(() => checkDocumentId("d", value)).toThrow(ValidationError);
      }),
      { numRuns: 3000 },
    );
  });
});

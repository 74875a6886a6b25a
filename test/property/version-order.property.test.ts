import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TOMBSTONE_REV } from "../../src/l2/document-entry.js";
import { compareVersions, supersedes } from "../../src/l2/version-order.js";

// Small ranges, so that equal incarnations, equal revs and tombstones come up often.
const rev = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 1, arbitrary: fc.constant(TOMBSTONE_REV) },
);
const version = fc.record({ incarnation: fc.integer({ min: 0, max: 3 }), rev });
const stamped = fc.record({
  incarnation: fc.integer({ min: 0, max: 3 }),
  rev,
  freshUntil: fc.integer({ min: 0, max: 3 }),
});

describe("version order", () => {
  it("orders (incarnation, rev) lexicographically, a tombstone topping its incarnation", () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const expected =
          a.incarnation !== b.incarnation
            ? Math.sign(a.incarnation - b.incarnation)
            : a.rev === b.rev
              ? 0
              : a.rev > b.rev
                ? 1
                : -1;
        expect(compareVersions(a, b)).toBe(expected);
        expect(compareVersions(b, a)).toBe(-expected || 0);
      }),
    );
  });

  it("the fence keeps a put out exactly when the stored version is newer, its tombstone, or as new and as fresh", () => {
    fc.assert(
      fc.property(stamped, stamped, fc.boolean(), (stored, next, withFreshness) => {
        const held = withFreshness ? stored : { incarnation: stored.incarnation, rev: stored.rev };
        const order = compareVersions(held, next);
        const expected =
          order > 0 ||
          (order === 0 && (stored.rev === TOMBSTONE_REV || (withFreshness && stored.freshUntil >= next.freshUntil)));
        expect(supersedes(held, next)).toBe(expected);
      }),
    );
  });
});

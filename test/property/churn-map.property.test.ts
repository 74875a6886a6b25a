/**
 * ChurnMap answers exactly as a Map would, whatever the mix of sets, deletes and clears, while holding a bounded
 * number of idle entries: keys that come back reuse theirs, and a sweep drops them once many are idle.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChurnMap } from "../../src/kernel/churn-map.js";

type Op = { kind: "set"; key: number; value: number } | { kind: "delete" | "get"; key: number } | { kind: "clear" };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("set" as const), key: fc.nat(60), value: fc.integer({ min: 1, max: 9 }) }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.nat(60) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("get" as const), key: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
);

describe("ChurnMap", () => {
  it("reads as a Map under any sequence of sets, deletes and clears, with idle entries bounded", () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 50, maxLength: 400, size: "max" }) /* long: keys come back idle */,
        fc.integer({ min: 1, max: 8 }),
        (ops, kept) => {
          const map = new ChurnMap<number>(0, kept);
          const model = new Map<string, number>();
          for (const o of ops) {
            if (o.kind === "set") {
              map.set(`k${o.key}`, o.value);
              model.set(`k${o.key}`, o.value);
            } else if (o.kind === "delete") {
              map.delete(`k${o.key}`);
              model.delete(`k${o.key}`);
            } else if (o.kind === "clear") {
              map.clear();
              model.clear();
            } else {
              expect(map.get(`k${o.key}`)).toBe(model.get(`k${o.key}`));
            }
            // Idle entries: at most `kept`, or no more than those in use (then the next delete past both sweeps).
            expect(map.entries - model.size).toBeLessThanOrEqual(Math.max(kept, model.size));
          }
          for (let key = 0; key <= 60; key++) expect(map.get(`k${key}`)).toBe(model.get(`k${key}`));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keys that come back reuse their entries: no sweep while the same keys come and go", () => {
    const map = new ChurnMap<number>(0, 64); // more than the 50 keys that come and go
    for (let round = 0; round < 100; round++) {
      for (let key = 0; key < 50; key++) map.set(`k${key}`, round + 1);
      for (let key = 0; key < 50; key++) map.delete(`k${key}`);
    }
    expect(map.entries).toBe(50);
    expect(map.sweeps).toBe(0);
    for (let key = 0; key < 50; key++) map.set(`new${key}`, 1);
    for (let key = 0; key < 50; key++) map.delete(`new${key}`);
    expect(map.sweeps).toBe(1); // past 64 idle, none in use: swept
    expect(map.entries).toBeLessThanOrEqual(64);
  });
});

/**
 * The parts of the read-through core that own state, each against a model, explored by fast-check:
 *  - SingleFlight: a join returns the flight registered for the id now; a settled or detached flight is gone, and a
 *    settled flight never unregisters a newer one (invariant 5); a batch assembled id by id (joinOrAdd) joins what
 *    is in flight, leads the rest, and reads a repeated id once;
 *  - L1FillGuard: a fill reaches L1 only when nothing invalidated its id, flushed or closed the guard, and no newer
 *    fill of the id began since it started (invariant 3).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createL1Store } from "../../src/l1/create-l1-store.js";
import type { L1Store } from "../../src/l1/l1-store.js";
import type { FrozenDocument } from "../../src/read-through/document-codec.js";
import { L1FillGuard } from "../../src/read-through/l1-fill-guard.js";
import { SingleFlight } from "../../src/read-through/single-flight.js";

const ids = ["a", "b", "c"] as const;
const id = fc.constantFrom(...ids);

const flightOps = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("lead" as const), id }),
    fc.record({ kind: fc.constant("batch" as const), ids: fc.uniqueArray(id, { minLength: 1, maxLength: 3 }) }),
    // The getMany path: openBatch, joinOrAdd per id (repeats allowed), startBatch.
    fc.record({ kind: fc.constant("open" as const), ids: fc.array(id, { minLength: 1, maxLength: 4 }) }),
    // A batch whose assembly threw after claiming some ids, never started: nothing is in flight for them.
    fc.record({ kind: fc.constant("abandon" as const), ids: fc.uniqueArray(id, { minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constant("detach" as const), id }),
    fc.record({ kind: fc.constant("settle" as const), flight: fc.nat(20) }),
  ),
  { maxLength: 40 },
);

interface Deferred {
  readonly promise: Promise<unknown>;
  resolve(): void;
  settled: boolean;
}

describe("SingleFlight", () => {
  it("joins the flight registered for the id; settled and detached flights are gone", async () => {
    await fc.assert(
      fc.asyncProperty(flightOps, async (ops) => {
        const flights = new SingleFlight<string>();
        /** The model: id → number of the flight registered for it. */
        const model = new Map<string, number>();
        const made: Deferred[] = [];
        /** Reads joined by joinOrAdd, and the value each must get: its id's flight's, when it joined. */
        const joinedByAdd: Array<[Promise<string | undefined>, string]> = [];
        /** A new flight, settled by a later "settle" op (or at the end). */
        const open = () => {
          let resolve!: () => void;
          const n = made.length;
          const deferred: Deferred = {
            promise: new Promise<void>((r) => {
              resolve = r;
            }),
            resolve: () => resolve(),
            settled: false,
          };
          made.push(deferred);
          return { n, deferred };
        };
        for (const op of ops) {
          if (op.kind === "lead") {
            const { n, deferred } = open();
            flights.lead(
              op.id,
              deferred.promise.then(() => `${op.id}@${n}`),
            );
            model.set(op.id, n);
          } else if (op.kind === "batch") {
            const { n, deferred } = open();
            const values = new Map(op.ids.map((i) => [i, `${i}@${n}`] as [string, string]));
            flights.leadBatch(
              op.ids,
              deferred.promise.then(() => values),
            );
            for (const i of op.ids) model.set(i, n);
          } else if (op.kind === "open") {
            const { n, deferred } = open();
            const batch = flights.openBatch();
            const leading: string[] = [];
            for (const i of op.ids) {
              const answer = flights.joinOrAdd(i, batch);
              const current = model.get(i);
              if (leading.includes(i)) expect(answer).toBe("again");
              else if (current !== undefined && typeof answer !== "string")
                joinedByAdd.push([answer, `${i}@${current}`]);
              else {
                expect(answer).toBe(current === undefined ? "lead" : "a join");
                leading.push(i);
              }
            }
            const values = new Map(leading.map((i) => [i, `${i}@${n}`] as [string, string]));
            flights.startBatch(
              batch,
              leading,
              deferred.promise.then(() => values),
            );
            for (const i of leading) model.set(i, n);
          } else if (op.kind === "abandon") {
            const batch = flights.openBatch();
            for (const i of op.ids) {
              const answer = flights.joinOrAdd(i, batch);
              if (model.get(i) === undefined) expect(answer).toBe("lead");
              else if (typeof answer !== "string") joinedByAdd.push([answer, `${i}@${model.get(i)}`]);
            }
          } else if (op.kind === "detach") {
            flights.detach(op.id);
            model.delete(op.id);
          } else {
            const deferred = made[op.flight];
            if (deferred === undefined || deferred.settled) continue;
            deferred.settled = true;
            deferred.resolve();
            for (let tick = 0; tick < 5; tick++) await Promise.resolve();
            for (const [key, n] of model) if (n === op.flight) model.delete(key);
          }
          for (const key of ids) {
            const joined = flights.join(key);
            const expected = model.get(key);
            if (expected === undefined) {
              expect(joined).toBeUndefined();
              continue;
            }
            // Registered and not settled yet: the join is still pending.
            expect(await Promise.race([joined, Promise.resolve("pending")])).toBe("pending");
          }
        }
        // Settle everything: every join resolves to its own flight's value.
        const joins = ids.map((key) => [flights.join(key), model.get(key)] as const);
        for (const deferred of made) deferred.resolve();
        for (const [i, [joined, expected]] of joins.entries()) {
          if (expected !== undefined) expect(await joined).toBe(`${ids[i]}@${expected}`);
        }
        for (const [joined, expected] of joinedByAdd) expect(await joined).toBe(expected);
        // Every read ended: every entry is idle (sweepable), unless a batch was abandoned before it started (its ids
        // hold its empty box until a later read takes them over).
        for (let tick = 0; tick < 5; tick++) await Promise.resolve();
        if (!ops.some((o) => o.kind === "abandon")) expect(flights.idle).toBe(flights.entries);
      }),
      { numRuns: 300 },
    );
  });
});

/** `fill` counts back from the newest fill (0 = the newest), so finishes usually hit a fill that exists. */
const guardOps = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant("begin" as const), id }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant("finish" as const), fill: fc.nat(2) }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant("end" as const), fill: fc.nat(2) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("invalidate" as const), id }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant("flush" as const) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("open" as const), open: fc.boolean() }), weight: 1 },
  ),
  { maxLength: 60, size: "+1" },
);

describe("L1FillGuard", () => {
  it("a fill reaches L1 only if nothing invalidated, flushed, closed or superseded it since it began", () => {
    fc.assert(
      fc.property(guardOps, (ops) => {
        const clock = { now: () => 0, random: () => 0.5 };
        const l1 = createL1Store({ capacity: 16 }) as L1Store<FrozenDocument>;
        const guard = new L1FillGuard(l1, clock);
        const fills: Array<{ id: string; token: number; void: boolean; done: boolean }> = [];
        let open = true;
        /** The model of what L1 holds: id → the fill number cached. */
        const cached = new Map<string, number>();
        for (const op of ops) {
          if (op.kind === "begin") {
            for (const fill of fills) if (fill.id === op.id) fill.void = true; // a newer token replaces the older
            fills.push({ id: op.id, token: guard.begin(op.id), void: false, done: false });
          } else if (op.kind === "finish" || op.kind === "end") {
            const n = fills.length - 1 - op.fill;
            const fill = fills[n];
            if (fill === undefined || fill.done) continue;
            fill.done = true;
            if (op.kind === "end") {
              guard.end(fill.id, fill.token);
            } else {
              const doc = { id: fill.id, rev: n } as unknown as FrozenDocument;
              guard.finish(fill.id, fill.token, doc, Number.POSITIVE_INFINITY);
              if (!fill.void && open) cached.set(fill.id, n);
            }
            fill.void = true; // a token is single-use
          } else if (op.kind === "invalidate") {
            guard.invalidate(op.id);
            cached.delete(op.id);
            for (const fill of fills) if (fill.id === op.id) fill.void = true;
          } else if (op.kind === "flush" || (op.kind === "open" && !op.open)) {
            if (op.kind === "flush") guard.flush();
            else guard.setOpen(false);
            cached.clear();
            for (const fill of fills) fill.void = true;
            if (op.kind === "open") open = false;
          } else {
            guard.setOpen(true);
            open = true;
          }
          for (const key of ids) {
            const slot = l1.get(key);
            const expected = cached.get(key);
            expect(slot?.rev).toBe(expected);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("is inert without an L1", () => {
    const guard = new L1FillGuard(undefined, { now: () => 0, random: () => 0.5 });
    const token = guard.begin("a");
    expect(token).toBe(0);
    guard.finish("a", token, { id: "a", rev: 1 } as unknown as FrozenDocument, 10);
    guard.invalidate("a");
    guard.flush();
    guard.setOpen(false);
    expect(guard.begin("b")).toBe(0);
  });
});

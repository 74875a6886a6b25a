/**
 * DeadlineQueue expires exactly what per-item timers would: every item unsettled at its own deadline, at that
 * deadline, once; nothing settled before it; and it lets go of settled items (no timer left once all have settled).
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineQueue } from "../../src/kernel/deadline-queue.js";

interface Item {
  readonly id: number;
  readonly deadline: number;
  settled: boolean;
  /** The (fake) time it expired at, if it did. */
  expiredAt?: number;
  expiries: number;
}

type Op = { kind: "add" } | { kind: "settle"; pick: number } | { kind: "advance"; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "add" as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("settle" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 60 }) }) },
);

describe("DeadlineQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("expires each unsettled item at its own deadline, once, and never a settled one", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (ops, ms) => {
        vi.setSystemTime(0);
        const items: Item[] = [];
        const queue = new DeadlineQueue<Item>(
          ms,
          (item) => item.settled,
          (item) => {
            item.expiries++;
            item.expiredAt = Date.now();
          },
          () => Date.now(),
        );
        const check = () => {
          const now = Date.now();
          for (const item of items) {
            if (item.expiredAt !== undefined) {
              expect(item.expiries).toBe(1);
              expect(item.expiredAt).toBe(item.deadline); // at its own deadline, not at some earlier head's
            } else if (!item.settled) expect(item.deadline).toBeGreaterThan(now);
          }
        };
        for (const o of ops) {
          if (o.kind === "add") {
            const item: Item = { id: items.length, deadline: Date.now() + ms, settled: false, expiries: 0 };
            items.push(item);
            queue.add(item);
          } else if (o.kind === "settle") {
            const open = items.filter((item) => !item.settled && item.expiredAt === undefined);
            if (open.length > 0) open[o.pick % open.length]!.settled = true;
          } else vi.advanceTimersByTime(o.ms);
          check();
          // Held: the unsettled items, and settled ones behind the oldest unsettled (or added since the last drop).
          const open = items.filter((item) => !item.settled && item.expiredAt === undefined).length;
          expect(queue.size).toBeGreaterThanOrEqual(open);
        }
        for (const item of items) item.settled ||= item.expiredAt !== undefined;
        vi.advanceTimersByTime(ms);
        check();
        expect(queue.size).toBe(0);
        expect(queue.armed).toBe(false);
        expect(vi.getTimerCount()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("one timer, however many items are pending", () => {
    vi.setSystemTime(0);
    const expired: number[] = [];
    const queue = new DeadlineQueue<number>(
      100,
      () => false,
      (n) => expired.push(n),
      () => Date.now(),
    );
    for (let i = 0; i < 1000; i++) {
      queue.add(i);
      if (i % 100 === 99) vi.advanceTimersByTime(1);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(90); // now 100: the deadline of the first ms' items (added at 0)
    expect(expired).toEqual(Array.from({ length: 100 }, (_, i) => i)); // the first ms' worth, in order
    vi.advanceTimersByTime(9); // now 109: the last were added at 9
    expect(expired).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(vi.getTimerCount()).toBe(0);
  });

  it("settled items in order are dropped as new ones come: the ring stays at what is in flight", () => {
    vi.setSystemTime(0);
    const queue = new DeadlineQueue<{ done: boolean }>(
      250,
      (item) => item.done,
      () => {
        throw new Error("nothing should expire");
      },
      () => Date.now(),
    );
    let previous: { done: boolean } | undefined;
    for (let i = 0; i < 10_000; i++) {
      if (previous !== undefined) previous.done = true;
      previous = { done: false };
      queue.add(previous);
      expect(queue.size).toBe(1);
    }
    previous!.done = true;
    vi.advanceTimersByTime(250);
    expect(queue.size).toBe(0);
  });

  it("gives a burst's ring back once it has drained", () => {
    vi.setSystemTime(0);
    const queue = new DeadlineQueue<{ done: boolean }>(
      250,
      (item) => item.done,
      () => {},
      () => Date.now(),
    );
    const burst = Array.from({ length: 5_000 }, () => ({ done: false }));
    for (const item of burst) queue.add(item);
    expect(queue.capacity).toBeGreaterThanOrEqual(5_000);
    for (const item of burst) item.done = true;
    queue.add({ done: false }); // drops the settled burst first, then finds the ring empty
    expect(queue.size).toBe(1);
    expect(queue.capacity).toBeLessThanOrEqual(1_024);
  });
});

/**
 * The fill-lease protocol (fill-lease.ts) on virtual time: a wait always ends by maxWait whatever the holder does,
 * ends as soon as the holder's lease is gone, is woken by an invalidation without polling, and counts what it did.
 * The lease life (lease-ttl.ts) follows the observed fetch times within its floor and ceiling; the origin cap
 * (origin-cap.ts) never runs more than its limit at once.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LeaseState } from "../../src/l2/entry-lease.js";
import { type Claim, FillLease, type LeaseTimers } from "../../src/read-through/fill-lease.js";
import { LEASE_FLOOR_MS, LeaseTtl } from "../../src/read-through/lease-ttl.js";
import { OriginCap } from "../../src/read-through/origin-cap.js";

/** Virtual time: a sleep passes its whole duration at once (no wake-ups), or never ends unless woken (`stalled`). */
class VirtualTimers implements LeaseTimers {
  now_ = 0;
  sleeps = 0;
  stalled = false;
  now = () => this.now_;
  random = () => 0.5;
  sleep = (ms: number, wake: (resolve: () => void) => void): Promise<void> => {
    this.sleeps++;
    return new Promise<void>((resolve) => {
      wake(resolve);
      if (!this.stalled) {
        this.now_ += ms;
        resolve();
      }
    });
  };
}

const held = (value: string): Claim<string> => ({ value, state: "held" });

describe("FillLease.settle", () => {
  it("ends by maxWait whatever the holder does, and as soon as its lease is gone", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(fc.constantFrom<LeaseState>("held", "held", "fresh", "granted"), { minLength: 1, maxLength: 60 }),
        async (maxWaitMs, replies) => {
          const timers = new VirtualTimers();
          let calls = 0;
          const lease = new FillLease<string>({ maxWaitMs, ttlMs: 5_000 }, false, timers, async () => {
            const state = replies[Math.min(calls, replies.length - 1)]!;
            calls++;
            return [{ value: `reply ${calls}`, state }];
          });
          const [out] = await lease.settle(["k"], [held("first")], ["t"]);
          expect(timers.now_).toBeLessThanOrEqual(maxWaitMs);
          const firstGone = replies.findIndex((state) => state !== "held");
          if (out!.timedOut) {
            expect(out!.state).toBe("held");
            expect(firstGone === -1 || firstGone >= calls).toBe(true);
            expect(lease.counters.holderTimeouts).toBe(1);
          } else {
            expect(calls).toBe(firstGone + 1); // no re-claim after the lease was gone
            expect(out!.state).toBe(replies[firstGone]);
            expect(lease.counters.granted).toBe(out!.state === "granted" ? 1 : 0);
          }
          expect(lease.counters.waits).toBe(1);
          expect(lease.counters.waitMs).toBe(timers.now_);
        },
      ),
    );
  });

  it("a failing re-claim ends the wait (timed out), never the read", async () => {
    const lease = new FillLease<string>({ maxWaitMs: 1_000, ttlMs: 5_000 }, false, new VirtualTimers(), async () => {
      throw new Error("redis down");
    });
    const [out] = await lease.settle(["k"], [held("first")], ["t"]);
    expect(out).toMatchObject({ value: "first", timedOut: true });
  });

  it("is woken by an invalidation of its key: no poll has to pass", async () => {
    const timers = new VirtualTimers();
    timers.stalled = true; // a sleep never ends on its own
    const lease = new FillLease<string>({ maxWaitMs: 1_000, ttlMs: 5_000 }, true, timers, async (keys) =>
      keys.map((key) => ({ value: `${key} filled`, state: "fresh" as const })),
    );
    const settled = lease.settle(["a", "b"], [held("a"), held("b")], ["t", "t"]);
    await Promise.resolve();
    lease.wake("other"); // another key: nothing
    lease.wake("b");
    expect(await settled).toEqual([
      { value: "a filled", state: "fresh", timedOut: false },
      { value: "b filled", state: "fresh", timedOut: false },
    ]);
    expect(timers.sleeps).toBe(1);
  });

  it("does not wait for claims that are not held", async () => {
    const timers = new VirtualTimers();
    const lease = new FillLease<string>({ maxWaitMs: 1_000, ttlMs: 5_000 }, false, timers, async () => {
      throw new Error("not called");
    });
    const claims: Claim<string>[] = [
      { value: "x", state: "fresh" },
      { value: "y", state: "granted" },
    ];
    const out = await lease.settle(["x", "y"], claims, ["t", "t"]);
    expect(out.map((claim) => claim.state)).toEqual(["fresh", "granted"]);
    expect(timers.sleeps).toBe(0);
    expect(lease.counters).toMatchObject({ granted: 1, waits: 0 });
  });
});

describe("FillLease batched polling", () => {
  it("the waits of one process poll together: one re-claim per tick for every key, each with its own token", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 4 }), async (waits, rounds) => {
        const timers = new VirtualTimers();
        const calls: Array<{ keys: string[]; tokens: string[] }> = [];
        const lease = new FillLease<string>(
          { maxWaitMs: 10_000, ttlMs: 5_000 },
          false,
          timers,
          async (keys, tokens) => {
            calls.push({ keys: [...keys], tokens: [...tokens] });
            // Held for `rounds` polls, then filled.
            return keys.map((key) => ({ value: key, state: calls.length < rounds ? "held" : ("fresh" as const) }));
          },
        );
        const out = await Promise.all(
          Array.from({ length: waits }, (_, i) => lease.settle([`k${i}`], [held("first")], [`t${i}`])),
        );
        expect(out.every(([claim]) => claim!.state === "fresh")).toBe(true);
        expect(calls).toHaveLength(rounds); // not waits × rounds
        for (const call of calls) {
          expect(call.keys).toEqual(Array.from({ length: waits }, (_, i) => `k${i}`));
          expect(call.tokens).toEqual(Array.from({ length: waits }, (_, i) => `t${i}`));
        }
      }),
    );
  });

  it("a wake polls the woken waits at once, in one call", async () => {
    const timers = new VirtualTimers();
    timers.stalled = true;
    const calls: string[][] = [];
    const lease = new FillLease<string>({ maxWaitMs: 1_000, ttlMs: 5_000 }, true, timers, async (keys) => {
      calls.push([...keys]);
      return keys.map((key) => ({ value: key, state: "fresh" as const }));
    });
    const a = lease.settle(["a"], [held("a")], ["t1"]);
    const b = lease.settle(["b"], [held("b")], ["t2"]);
    await Promise.resolve();
    lease.wake("a");
    lease.wake("b");
    await Promise.all([a, b]);
    expect(calls).toEqual([["a", "b"]]);
  });
});

describe("FillLease wake during a poll in flight", () => {
  it("re-polls at once when its key is woken while its poll was in flight (the reply may predate the fill)", async () => {
    const timers = new VirtualTimers();
    timers.stalled = true; // no poll comes on its own: only wakes move the wait
    let calls = 0;
    const lease: FillLease<string> = new FillLease<string>(
      { maxWaitMs: 1_000, ttlMs: 5_000 },
      true,
      timers,
      async (keys) => {
        calls++;
        if (calls === 1) {
          lease.wake("a"); // the fill's invalidation arrives while this poll is on the wire
          return keys.map((key) => ({ value: key, state: "held" as const }));
        }
        return keys.map((key) => ({ value: `${key} filled`, state: "fresh" as const }));
      },
    );
    const settled = lease.settle(["a"], [held("a")], ["t"]);
    await Promise.resolve();
    lease.wake("a");
    expect(await settled).toEqual([{ value: "a filled", state: "fresh", timedOut: false }]);
    expect(calls).toBe(2);
  });
});

describe("LeaseTtl", () => {
  it("is the ceiling until enough fetches were seen, then 3× their p99 within [floor, ceiling]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.array(fc.double({ min: 0, max: 100_000, noNaN: true }), { maxLength: 200 }),
        (ceilingMs, fetches) => {
          const ttl = new LeaseTtl(ceilingMs);
          for (const ms of fetches) ttl.observe(ms);
          if (fetches.length < 8) expect(ttl.ms).toBe(ceilingMs);
          expect(ttl.ms).toBeLessThanOrEqual(ceilingMs);
          expect(ttl.ms).toBeGreaterThanOrEqual(Math.min(LEASE_FLOOR_MS, ceilingMs));
          if (fetches.length >= 8) {
            // Of at most 64 samples the p99 is the largest: 3× it, clamped.
            const p99 = Math.max(...fetches.slice(-64));
            expect(ttl.ms).toBe(Math.min(ceilingMs, Math.max(Math.min(LEASE_FLOOR_MS, ceilingMs), Math.ceil(3 * p99))));
          }
        },
      ),
    );
  });

  it("follows the fetch times: 20 ms fetches give a lease of 250 ms (the floor), 1 s fetches one of 3 s", () => {
    const ttl = new LeaseTtl(5_000);
    for (let i = 0; i < 64; i++) ttl.observe(20);
    expect(ttl.ms).toBe(LEASE_FLOOR_MS);
    for (let i = 0; i < 64; i++) ttl.observe(1_000);
    expect(ttl.ms).toBe(3_000);
  });
});

describe("OriginCap", () => {
  it("never runs more than its limit at once, and runs every task", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(3), { maxLength: 30 }), async (limit, ticks) => {
        const cap = new OriginCap(limit);
        let running = 0;
        let peak = 0;
        const results = await Promise.all(
          ticks.map((n, i) =>
            cap
              .run(async () => {
                running++;
                peak = Math.max(peak, running);
                for (let t = 0; t < n; t++) await Promise.resolve();
                running--;
                if (i % 5 === 4) throw new Error("fails");
                return i;
              })
              .catch(() => -1),
          ),
        );
        expect(peak).toBeLessThanOrEqual(limit);
        expect(results).toEqual(ticks.map((_, i) => (i % 5 === 4 ? -1 : i)));
      }),
    );
  });
});

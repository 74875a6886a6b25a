import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrequencySketch } from "../../src/l1/frequency-sketch.js";
import type { L1Store } from "../../src/l1/l1-store.js";
import { LruL1Store } from "../../src/l1/lru-l1-store.js";
import { ShadowLru } from "../../src/l1/shadow-lru.js";
import { TinyLfuL1Store } from "../../src/l1/tiny-lfu-l1-store.js";
import { seededRandom } from "../support/seeded-random.js";

type Op =
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "set"; readonly key: string; readonly value: number; readonly ttl: number | undefined }
  | { readonly kind: "invalidate"; readonly key: string }
  | { readonly kind: "clear" }
  | { readonly kind: "tick"; readonly ms: number };

// A small key space, so that keys come back, collide with capacity and get evicted.
const key = fc.integer({ min: 0, max: 11 }).map((n) => `k${n}`);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: key.map((k) => ({ kind: "get" as const, key: k })) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      key,
      value: fc.integer(),
      ttl: fc.option(fc.integer({ min: -5, max: 60 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: key.map((k) => ({ kind: "invalidate" as const, key: k })) },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }).map((ms) => ({ kind: "tick" as const, ms })) },
);
const defaultTtl = fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined });

/**
 * Exact reference for LruL1Store: entries in recency order (least recent first), each with its deadline.
 * Mirrors lru-cache: a dead entry is dropped when looked up; capacity evicts the least recent, dead or not.
 */
class LruModel {
  readonly entries: Array<{ key: string; value: number; deadline: number }> = [];
  hits = 0;
  misses = 0;
  evictions = 0;
  expirations = 0;
  invalidations = 0;

  constructor(
    readonly capacity: number,
    readonly ttl: number | undefined,
  ) {}

  get(key: string, now: number): number | undefined {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) {
      this.misses++;
      return undefined;
    }
    const [entry] = this.entries.splice(i, 1);
    if (entry!.deadline < now) {
      this.expirations++;
      this.misses++;
      return undefined;
    }
    this.entries.push(entry!);
    this.hits++;
    return entry!.value;
  }

  set(key: string, value: number, ttl: number | undefined, now: number): void {
    const i = this.entries.findIndex((e) => e.key === key);
    if (ttl !== undefined && ttl <= 0) {
      if (i >= 0) this.entries.splice(i, 1);
      return;
    }
    const lifetime = Math.min(ttl ?? Number.POSITIVE_INFINITY, this.ttl ?? Number.POSITIVE_INFINITY);
    if (i >= 0) this.entries.splice(i, 1);
    this.entries.push({ key, value, deadline: now + lifetime });
    if (this.entries.length > this.capacity) {
      this.entries.shift();
      this.evictions++;
    }
  }

  invalidate(key: string): boolean {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    this.invalidations++;
    return true;
  }
}

describe("LruL1Store against an exact LRU model", () => {
  it("agrees on every result, the size and every counter, with ttl and a fake clock", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        defaultTtl,
        fc.array(op, { maxLength: 120 }),
        (capacity, ttl, ops) => {
          let now = 100;
          const store = new LruL1Store<number>({ capacity, ttlMs: ttl, now: () => now });
          const model = new LruModel(capacity, ttl);
          for (const o of ops) {
            switch (o.kind) {
              case "get":
                expect(store.get(o.key)).toBe(model.get(o.key, now));
                break;
              case "set":
                store.set(o.key, o.value, o.ttl);
                model.set(o.key, o.value, o.ttl, now);
                break;
              case "invalidate":
                expect(store.invalidate(o.key)).toBe(model.invalidate(o.key));
                break;
              case "clear":
                store.clear();
                model.entries.length = 0;
                break;
              case "tick":
                now += o.ms;
                break;
            }
            expect(store.size).toBe(model.entries.length);
          }
          expect(store.stats()).toMatchObject({
            size: model.entries.length,
            hits: model.hits,
            misses: model.misses,
            evictions: model.evictions,
            expirations: model.expirations,
            invalidations: model.invalidations,
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe.each([
  [
    "lru",
    (capacity: number, ttl: number | undefined, now: () => number) =>
      new LruL1Store<number>({ capacity, ttlMs: ttl, now }),
  ],
  [
    "tinylfu",
    (capacity: number, ttl: number | undefined, now: () => number) =>
      new TinyLfuL1Store<number>({ capacity: Math.max(2, capacity), ttlMs: ttl, now }),
  ],
] as const)("%s store invariants", (_name, make) => {
  it("never exceeds capacity, never returns a stale or dead value, and keeps its counters consistent", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        defaultTtl,
        fc.array(op, { maxLength: 150 }),
        (capacity, ttl, ops) => {
          let now = 0;
          const store: L1Store<number> = make(capacity, ttl, () => now);
          // What the store may return for each key: the last value set and when it dies.
          const latest = new Map<string, { value: number; deadline: number }>();
          let lookups = 0;
          let invalidations = 0;
          for (const o of ops) {
            switch (o.kind) {
              case "get": {
                lookups++;
                const got = store.get(o.key);
                const expected = latest.get(o.key);
                if (got !== undefined) {
                  expect(expected).toBeDefined();
                  expect(got).toBe(expected!.value);
                  expect(now).toBeLessThanOrEqual(expected!.deadline);
                } else if (expected !== undefined && now > expected.deadline) {
                  latest.delete(o.key);
                }
                break;
              }
              case "set": {
                store.set(o.key, o.value, o.ttl);
                if (o.ttl !== undefined && o.ttl <= 0) {
                  latest.delete(o.key);
                } else {
                  const lifetime = Math.min(o.ttl ?? Number.POSITIVE_INFINITY, ttl ?? Number.POSITIVE_INFINITY);
                  latest.set(o.key, { value: o.value, deadline: now + lifetime });
                  // Just set: readable now (a freshly set entry may only be evicted by a later insertion).
                  lookups++;
                  expect(store.get(o.key)).toBe(o.value);
                }
                break;
              }
              case "invalidate": {
                const removed = store.invalidate(o.key);
                if (removed) invalidations++;
                latest.delete(o.key);
                expect(store.get(o.key)).toBeUndefined();
                lookups++;
                break;
              }
              case "clear":
                store.clear();
                latest.clear();
                expect(store.size).toBe(0);
                break;
              case "tick":
                now += o.ms;
                break;
            }
            expect(store.size).toBeLessThanOrEqual(store.capacity);
          }
          const stats = store.stats();
          expect(stats.hits + stats.misses).toBe(lookups);
          expect(stats.invalidations).toBe(invalidations);
          expect(stats.size).toBe(store.size);
          expect(stats.hitRate).toBe(lookups === 0 ? 0 : stats.hits / lookups);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps a working set that fits, forever, without ttl", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 50 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 500 }),
        (capacity, picks) => {
          const store = make(capacity, undefined, () => 0);
          const keys = Array.from({ length: store.capacity }, (_, i) => `w${i}`);
          for (const k of keys) store.set(k, 1);
          for (const p of picks) expect(store.get(keys[p % keys.length]!)).toBe(1);
          expect(store.stats().evictions).toBe(0);
        },
      ),
    );
  });
});

describe("TinyLfuL1Store under random traffic", () => {
  it("stays within capacity and its regions stay consistent under skewed traffic with adaptation", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 64 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 3000 }),
        fc.integer(),
        (capacity, draws, seed) => {
          const store = new TinyLfuL1Store<number>({ capacity, seed });
          const values = new Map<string, number>();
          for (const [i, d] of draws.entries()) {
            const k = `k${Math.floor(Math.sqrt(d * d * d) / 50)}`; // skewed towards small ids
            const got = store.get(k);
            if (got === undefined) {
              store.set(k, i);
              values.set(k, i);
            } else {
              expect(got).toBe(values.get(k));
            }
            expect(store.size).toBeLessThanOrEqual(capacity);
          }
          expect(store.windowCapacity).toBeGreaterThanOrEqual(1);
          expect(store.windowCapacity).toBeLessThan(capacity);
          const stats = store.stats();
          expect(stats.hits + stats.misses).toBe(draws.length);
          // Every eviction is of an entry that was added: size = adds − evictions.
          expect(stats.size).toBe(stats.misses - stats.evictions);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("FrequencySketch.add", () => {
  it("records n accesses as n increments in a row would (the clock aside), and reports saturation as they do", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 40 }),
        fc.integer(),
        fc.array(fc.record({ pick: fc.integer({ min: 0, max: 5 }), n: fc.integer({ min: 1, max: 20 }) }), {
          maxLength: 200,
        }),
        (capacity, seed, batches) => {
          // `plain` increments one at a time; `batched` adds n at once and ticks n times, resetting when told to.
          const plain = new FrequencySketch(capacity, seed);
          const batched = new FrequencySketch(capacity, seed);
          const hashes = [0, 1, 2, 3, 4, 5].map((i) => plain.hash(`k${i}`));
          for (const { pick, n } of batches) {
            const h = hashes[pick]!;
            // Stop at a halving: `add` is never asked to straddle one (the hit buffer applies its batch first).
            let count = n;
            let saturated = false;
            for (let i = 0; i < count; i++) {
              saturated = plain.increment(h);
              if (plain.resets !== batched.resets) {
                count = i + 1;
                break;
              }
            }
            const reported = batched.add(h, count);
            let reset = false;
            for (let i = 0; i < count; i++) reset = batched.tick() || reset;
            if (reset) batched.reset();
            expect(batched.resets).toBe(plain.resets);
            if (!reset) expect(reported).toBe(saturated);
            for (const other of hashes) expect(batched.frequency(other)).toBe(plain.frequency(other));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("TinyLfuL1Store's hit buffer", () => {
  it("leaves the sketch reading exactly as if every access were counted on the spot", () => {
    type SketchOp =
      | { readonly kind: "get"; readonly key: number; readonly times: number }
      | { readonly kind: "invalidate" | "frequency"; readonly key: number }
      | { readonly kind: "set"; readonly key: number; readonly ttl: number | undefined }
      | { readonly kind: "clear" }
      | { readonly kind: "tick"; readonly ms: number };
    const k = fc.integer({ min: 0, max: 15 });
    const sketchOp: fc.Arbitrary<SketchOp> = fc.oneof(
      // Mostly hits on a few keys, some in runs (past saturation within one batch), with adds, removals and expiry.
      {
        weight: 12,
        arbitrary: fc.record({
          kind: fc.constant("get" as const),
          key: fc.integer({ min: 0, max: 3 }),
          times: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 24 })),
        }),
      },
      { weight: 4, arbitrary: k.map((key) => ({ kind: "get" as const, key, times: 1 })) },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("set" as const),
          key: k,
          ttl: fc.option(fc.integer({ min: -2, max: 30 }), { nil: undefined }),
        }),
      },
      { weight: 1, arbitrary: k.map((key) => ({ kind: "invalidate" as const, key })) },
      { weight: 2, arbitrary: k.map((key) => ({ kind: "frequency" as const, key })) },
      { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 20 }).map((ms) => ({ kind: "tick" as const, ms })) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.integer(),
        fc.boolean(),
        fc.array(sketchOp, { minLength: 50, maxLength: 600 }),
        (capacity, seed, adaptive, ops) => {
          let now = 0;
          const store = new TinyLfuL1Store<number>({ capacity, seed, adaptive, ttlMs: 40, now: () => now });
          // The reference: a sketch with the same seed, incremented on every access the store counts.
          const sketch = new FrequencySketch(capacity, seed);
          const hashOf = (key: number) => sketch.hash(`k${key}`);
          for (const o of ops) {
            if (o.kind === "get") {
              for (let i = 0; i < o.times; i++) {
                const hit = (i & 1) === 0 ? store.get(`k${o.key}`) : store.getSettled(`k${o.key}`);
                if (hit !== undefined) sketch.increment(hashOf(o.key));
              }
            } else if (o.kind === "set") {
              store.set(`k${o.key}`, o.key, o.ttl);
              // A positive lifetime stores: an add or an overwrite, each an access. Otherwise a delete, uncounted.
              if (o.ttl === undefined || o.ttl > 0) sketch.increment(hashOf(o.key));
            } else if (o.kind === "invalidate") {
              store.invalidate(`k${o.key}`);
            } else if (o.kind === "frequency") {
              expect(store.frequency(`k${o.key}`)).toBe(sketch.frequency(hashOf(o.key)));
            } else if (o.kind === "clear") {
              store.clear();
            } else if (o.kind === "tick") {
              now += o.ms;
            }
          }
          for (let key = 0; key < 16; key++) expect(store.frequency(`k${key}`)).toBe(sketch.frequency(hashOf(key)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("stays exact through long runs of hits: the hit ring fills and drains, periods end part way through it, adds evict", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 300, maxLength: 3000 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 8 }),
        (capacity, seed, hits, readsAt, writesAt) => {
          const store = new TinyLfuL1Store<number>({ capacity, seed, adaptive: false });
          const sketch = new FrequencySketch(capacity, seed);
          const hashOf = (key: number) => sketch.hash(`k${key}`);
          for (let key = 0; key < capacity; key++) {
            store.set(`k${key}`, key);
            sketch.increment(hashOf(key));
          }
          const reads = new Set(readsAt);
          const writes = new Set(writesAt);
          hits.forEach((key, i) => {
            // Now and then a read of the sketch, which drains a partly filled ring.
            if (reads.has(i)) expect(store.frequency(`k${key}`)).toBe(sketch.frequency(hashOf(key)));
            if (writes.has(i)) {
              // An overwrite (recorded like a hit) or, for a key not resident, an add that may evict (admission).
              store.set(`k${key}`, key);
              sketch.increment(hashOf(key));
            } else if (store.get(`k${key}`) !== undefined) sketch.increment(hashOf(key));
          });
          for (let key = 0; key < 8; key++) expect(store.frequency(`k${key}`)).toBe(sketch.frequency(hashOf(key)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("ShadowLru", () => {
  it("answers exactly as an LRU of hashes, through evictions, removals and clears", () => {
    type ShadowOp = { kind: "access" | "remove"; h: number } | { kind: "clear" };
    // Hashes in a few clusters, so table probes collide and deletions have entries to shift back.
    const hash = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer().map((n) => (n & ~63) | 7),
      fc.integer(),
    );
    const shadowOp: fc.Arbitrary<ShadowOp> = fc.oneof(
      { weight: 8, arbitrary: hash.map((h) => ({ kind: "access" as const, h })) },
      { weight: 2, arbitrary: hash.map((h) => ({ kind: "remove" as const, h })) },
      { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(shadowOp, { maxLength: 600 }), (capacity, ops) => {
        const shadow = new ShadowLru(capacity);
        expect(shadow.sampleMask).toBe(0); // small capacities track every key
        const model: number[] = []; // least recent first
        const slotOf = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === "clear") {
            shadow.clear();
            model.length = 0;
            continue;
          }
          const i = model.indexOf(o.h);
          if (o.kind === "remove") {
            shadow.remove(o.h);
            if (i >= 0) model.splice(i, 1);
            // A removed key is gone for `touch` too, even on the slot that held it.
            const hint = slotOf.get(o.h);
            if (hint !== undefined) expect(shadow.touch(hint, o.h)).toBe(false);
            continue;
          }
          // As the store uses it: `touch` on the slot remembered for the hash, else `access`.
          const hint = slotOf.get(o.h);
          if (hint !== undefined && shadow.touch(hint, o.h)) {
            expect(i).toBeGreaterThanOrEqual(0);
          } else {
            const result = shadow.access(o.h);
            expect((result & 1) === 1).toBe(i >= 0);
            slotOf.set(o.h, result >>> 1);
          }
          if (i >= 0) model.splice(i, 1);
          model.push(o.h);
          if (model.length > capacity) model.shift();
        }
        // Every resident hash is still found (a lost table entry would read as a miss here).
        for (const h of [...model]) expect(shadow.access(h) & 1).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it("samples large caches down to a shadow of 1,024 to 2,047 keys", () => {
    for (const capacity of [2048, 10_000, 1_000_000]) {
      const shadow = new ShadowLru(capacity);
      expect(shadow.capacity).toBeGreaterThanOrEqual(1024);
      expect(shadow.capacity).toBeLessThan(2048);
      expect(shadow.sampleMask).not.toBe(0);
    }
  });
});

describe("TinyLfuL1Store's adaptive window under recency-biased traffic", () => {
  it("keeps the window within [1, capacity − 1] and the store within capacity while the guard moves it", () => {
    let grew = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 48 }),
        fc.integer({ min: 1200, max: 3000 }),
        fc.integer(),
        fc.nat(),
        (capacity, length, seed, trafficSeed) => {
          const store = new TinyLfuL1Store<number>({ capacity, seed });
          const random = seededRandom(trafficSeed);
          let largest = store.windowCapacity;
          for (let i = 0; i < length; i++) {
            // A working set of 40 keys drifting forward one key every 3 operations (recency wins), with
            // invalidations and, rarely, a clear.
            const key = `k${Math.floor(i / 3) + Math.floor(random() * 40)}`;
            const draw = random();
            if (draw < 0.002) store.clear();
            else if (draw < 0.06) store.invalidate(key);
            else access(store, key);
            const window = store.windowCapacity;
            // Plain checks per step (expect() per step would dominate the run time); expect() reports a failure.
            if (store.size > capacity || window < 1 || window > capacity - 1) {
              expect({ step: i, size: store.size, window }).toEqual({
                step: i,
                size: "≤ capacity",
                window: "in range",
              });
            }
            largest = Math.max(largest, window);
          }
          if (largest > Math.max(1, Math.floor(capacity / 4))) grew++;
        },
      ),
      { numRuns: 100, seed: 19 },
    );
    // The property covered a moving window, not only the initial 1%.
    expect(grew).toBeGreaterThan(10);
  });
});

function access(store: TinyLfuL1Store<number>, key: string): void {
  if (store.get(key) === undefined) store.set(key, 1);
}

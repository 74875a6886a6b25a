import { describe, expect, it } from "vitest";
import type { L1Store, L1StoreOptions } from "../../src/l1/l1-store.js";
import { LruL1Store } from "../../src/l1/lru-l1-store.js";
import { TinyLfuL1Store } from "../../src/l1/tiny-lfu-l1-store.js";
import { ManualClock } from "../support/strata.js";

const stores: ReadonlyArray<readonly [string, (options: L1StoreOptions) => L1Store<string>]> = [
  ["lru", (options) => new LruL1Store<string>(options)],
  ["tinylfu", (options) => new TinyLfuL1Store<string>({ ...options, seed: 1 })],
];

describe.each(stores)("%s store", (_name, make) => {
  it("returns what was set, by reference, and undefined for absent keys", () => {
    const store = make({ capacity: 10 }) as unknown as L1Store<object>;
    const doc = { id: "a" };
    store.set("a", doc);
    expect(store.get("a")).toBe(doc);
    expect(store.get("b")).toBeUndefined();
    expect(store.size).toBe(1);
    expect(store.capacity).toBe(10);
  });

  it("peek returns the live value without counting a lookup", () => {
    const clock = new ManualClock(0);
    const store = make({ capacity: 10, ttlMs: 100, now: clock.now });
    store.set("a", "1");
    expect(store.peek?.("a")).toBe("1");
    expect(store.peek?.("b")).toBeUndefined();
    expect(store.stats()).toMatchObject({ hits: 0, misses: 0 });
    clock.advance(101);
    expect(store.peek?.("a")).toBeUndefined(); // expired: not live
    expect(store.stats()).toMatchObject({ hits: 0, misses: 0 });
  });

  it("getSettled keeps one settled promise per entry from its second hit, renewed when the entry is replaced, gone with it", async () => {
    const clock = new ManualClock(0);
    const store = make({ capacity: 2, ttlMs: 100, now: clock.now });
    store.set("a", "1");
    const once = store.getSettled?.("a");
    expect(once).toBeInstanceOf(Promise);
    expect(await once).toBe("1");
    const first = store.getSettled?.("a"); // the second hit: this one is kept
    expect(first).not.toBe(once); // an entry read once keeps no promise
    expect(await first).toBe("1");
    expect(store.getSettled?.("a")).toBe(first); // the same promise: a hit allocates nothing
    expect(store.stats()).toMatchObject({ hits: 3, misses: 0 }); // counted like get
    store.set("a", "2"); // replaced: a new promise, never the old value
    expect(await store.getSettled?.("a")).toBe("2");
    const second = store.getSettled?.("a");
    expect(second).not.toBe(first);
    expect(await second).toBe("2");
    expect(store.getSettled?.("a")).toBe(second);
    expect(store.getSettled?.("b")).toBeUndefined();
    store.invalidate("a");
    expect(store.getSettled?.("a")).toBeUndefined();
    store.set("c", "3");
    store.set("d", "4");
    store.set("e", "5"); // capacity 2: one of c, d is evicted; its slot's promise must not leak to e
    expect(await store.getSettled?.("e")).toBe("5");
    clock.advance(101);
    expect(store.getSettled?.("e")).toBeUndefined(); // expired
    store.set("f", "6");
    store.clear();
    expect(store.getSettled?.("f")).toBeUndefined();
    store.set("f", "7");
    expect(await store.getSettled?.("f")).toBe("7");
  });

  it("treats set(key, undefined) as a delete: absent afterwards, and a lookup of it is a miss", () => {
    const store = make({ capacity: 4 }) as unknown as L1Store<string | undefined>;
    store.set("a", "1");
    store.set("a", undefined);
    store.set("b", undefined);
    expect(store.size).toBe(0);
    expect(store.get("a")).toBeUndefined();
    expect(store.stats()).toMatchObject({ hits: 0, misses: 1 });
  });

  it("overwrites a key in place", () => {
    const store = make({ capacity: 4 });
    store.set("a", "1");
    store.set("a", "2");
    expect(store.get("a")).toBe("2");
    expect(store.size).toBe(1);
  });

  it("never holds more than capacity entries, and counts capacity evictions", () => {
    const store = make({ capacity: 5 });
    for (let i = 0; i < 50; i++) {
      store.set(`k${i}`, "v");
      expect(store.size).toBeLessThanOrEqual(5);
    }
    expect(store.size).toBe(5);
    expect(store.stats().evictions).toBe(45);
  });

  it("expires entries after the default ttl: a miss, counted as an expiration, and removed", () => {
    const clock = new ManualClock(0);
    const store = make({ capacity: 10, ttlMs: 100, now: clock.now });
    store.set("a", "1");
    clock.advance(100);
    expect(store.get("a")).toBe("1");
    clock.advance(1);
    expect(store.get("a")).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.stats()).toMatchObject({ hits: 1, misses: 1, expirations: 1, evictions: 0, size: 0 });
    expect(store.get("a")).toBeUndefined();
    expect(store.stats().expirations).toBe(1);
  });

  it("lets a per-entry ttl shorten the default, never lengthen it", () => {
    const clock = new ManualClock(1_000);
    const store = make({ capacity: 10, ttlMs: 100, now: clock.now });
    store.set("short", "s", 10);
    store.set("long", "l", 10_000);
    clock.advance(11);
    expect(store.get("short")).toBeUndefined();
    expect(store.get("long")).toBe("l");
    clock.advance(90);
    expect(store.get("long")).toBeUndefined();
    expect(store.stats().expirations).toBe(2);
  });

  it("applies a per-entry ttl without a default, and keeps other entries forever", () => {
    const clock = new ManualClock(1_000);
    const store = make({ capacity: 10, now: clock.now });
    store.set("a", "1", 50);
    store.set("b", "2");
    clock.advance(1_000_000);
    expect(store.get("a")).toBeUndefined();
    expect(store.get("b")).toBe("2");
  });

  it("restarts the lifetime when a key is set again", () => {
    const clock = new ManualClock(1_000);
    const store = make({ capacity: 10, ttlMs: 100, now: clock.now });
    store.set("a", "1");
    clock.advance(80);
    store.set("a", "2");
    clock.advance(80);
    expect(store.get("a")).toBe("2");
  });

  it("drops the key when asked to store with a non-positive ttl", () => {
    const store = make({ capacity: 10 });
    store.set("a", "1");
    store.set("a", "2", 0);
    expect(store.get("a")).toBeUndefined();
    store.set("b", "1", -5);
    expect(store.size).toBe(0);
    expect(store.stats().invalidations).toBe(0);
  });

  it("invalidates: removes the entry, reports it, and counts only real removals", () => {
    const store = make({ capacity: 10 });
    store.set("a", "1");
    expect(store.invalidate("a")).toBe(true);
    expect(store.invalidate("a")).toBe(false);
    expect(store.invalidate("never")).toBe(false);
    expect(store.get("a")).toBeUndefined();
    expect(store.stats().invalidations).toBe(1);
    store.set("a", "again");
    expect(store.get("a")).toBe("again");
  });

  it("clears every entry but keeps the counters, and stays usable", () => {
    const store = make({ capacity: 4 });
    for (let i = 0; i < 6; i++) store.set(`k${i}`, "v");
    store.get("k5");
    store.get("zzz");
    store.clear();
    expect(store.size).toBe(0);
    expect(store.get("k5")).toBeUndefined();
    expect(store.stats()).toMatchObject({ hits: 1, misses: 2, evictions: 2, size: 0 });
    for (let i = 0; i < 6; i++) store.set(`n${i}`, "v");
    expect(store.size).toBe(4);
  });

  it("keeps stats consistent: hits + misses = lookups, hitRate derived, a frozen snapshot", () => {
    const store = make({ capacity: 3 });
    expect(store.stats().hitRate).toBe(0);
    let lookups = 0;
    for (let i = 0; i < 100; i++) {
      const key = `k${(i * 7) % 5}`;
      lookups++;
      if (store.get(key) === undefined) store.set(key, "v");
    }
    const stats = store.stats();
    expect(stats.hits + stats.misses).toBe(lookups);
    expect(stats.hitRate).toBeCloseTo(stats.hits / lookups, 12);
    expect(stats.capacity).toBe(3);
    expect(stats.size).toBe(store.size);
    expect(Object.isFrozen(stats)).toBe(true);
  });

  it("validates its options at construction", () => {
    expect(() => make({ capacity: 0 })).toThrow(/capacity/);
    expect(() => make({ capacity: 1.5 })).toThrow(/capacity/);
    expect(() => make({ capacity: 10, ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => make({ capacity: 10, ttlMs: Number.NaN })).toThrow(/ttlMs/);
  });
});

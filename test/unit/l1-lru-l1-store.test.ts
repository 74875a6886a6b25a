import { describe, expect, it } from "vitest";
import { LruL1Store } from "../../src/l1/lru-l1-store.js";

describe("LruL1Store", () => {
  it("evicts the least recently used entry; a hit refreshes recency", () => {
    const store = new LruL1Store<number>({ capacity: 3 });
    store.set("a", 1);
    store.set("b", 2);
    store.set("c", 3);
    expect(store.get("a")).toBe(1);
    store.set("d", 4);
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a")).toBe(1);
    expect(store.get("c")).toBe(3);
    expect(store.get("d")).toBe(4);
    expect(store.stats().evictions).toBe(1);
  });

  it("counts an eviction, not an expiration, for a dead entry pushed out by capacity", () => {
    let t = 0;
    const store = new LruL1Store<number>({ capacity: 1, ttlMs: 10, now: () => t });
    store.set("a", 1);
    t = 50;
    store.set("b", 2);
    expect(store.stats()).toMatchObject({ evictions: 1, expirations: 0 });
  });

  it("honours a clock that starts at 0 (lru-cache treats a start time of 0 as no ttl)", () => {
    let t = 0;
    const store = new LruL1Store<number>({ capacity: 4, ttlMs: 10, now: () => t });
    store.set("a", 1);
    t = 11;
    expect(store.get("a")).toBeUndefined();
  });

  it("loses a hot set to a scan of one-off keys (the weakness W-TinyLFU fixes)", () => {
    const store = new LruL1Store<number>({ capacity: 100 });
    const hot = Array.from({ length: 20 }, (_, i) => `hot-${i}`);
    for (let round = 0; round < 10; round++) for (const key of hot) if (store.get(key) === undefined) store.set(key, 1);
    for (let i = 0; i < 500; i++) store.set(`scan-${i}`, 1);
    expect(hot.filter((key) => store.get(key) !== undefined)).toEqual([]);
  });
});

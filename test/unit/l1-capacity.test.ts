/**
 * One capacity rule for every built-in L1 store, wherever the capacity comes from (a cache spec, createL1Store, a
 * store constructor): an integer from 1 (2 for tinylfu) to MAX_L1_CAPACITY. Above it the stores' up-front allocation
 * blocked the event loop (1e8 with lru: 42 s), exhausted the heap (1e9 with tinylfu) or threw a raw RangeError
 * (2^32); now it is a ConfigurationError naming the setting, raised before anything is allocated.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { L1Store, L1StoreOptions } from "../../src/index.js";
import { createL1Store, defineDocument } from "../../src/index.js";
import { MAX_L1_CAPACITY } from "../../src/l1/l1-capacity.js";
import { LruL1Store } from "../../src/l1/lru-l1-store.js";
import { TinyLfuL1Store } from "../../src/l1/tiny-lfu-l1-store.js";
import { expectConfigurationError } from "../support/throws.js";

const fields = z.object({ name: z.string() });
const tooLarge = [MAX_L1_CAPACITY + 1, 1e8, 1e9, 2 ** 32, Number.MAX_SAFE_INTEGER];

describe.each(["lru", "tinylfu"] as const)("L1 capacity with the %s policy", (policy) => {
  it.each(tooLarge)("refuses %d in a cache spec, naming cache.l1.capacity", (capacity) => {
    const error = expectConfigurationError(() =>
      defineDocument({ name: "big", fields, cache: { l1: { ttl: "1s", capacity, policy } } }),
    );
    expect(error.path).toBe("cache.l1.capacity");
    expect(error.message).toMatch(new RegExp(`at most ${MAX_L1_CAPACITY} with the ${policy} policy`));
  });

  it.each(tooLarge)("refuses %d in createL1Store, naming capacity", (capacity) => {
    expect(expectConfigurationError(() => createL1Store({ policy, capacity })).path).toBe("capacity");
  });

  it.each(tooLarge)("refuses %d in the store constructor", (capacity) => {
    const Store = policy === "lru" ? LruL1Store : TinyLfuL1Store;
    expect(expectConfigurationError(() => new Store({ capacity })).path).toBe("capacity");
  });

  it("accepts the bound itself, and the store works at it", () => {
    const spec = defineDocument({
      name: "big",
      fields,
      cache: { l1: { ttl: "1s", capacity: MAX_L1_CAPACITY, policy } },
    });
    expect(spec.cache?.l1?.capacity).toBe(MAX_L1_CAPACITY);
    const store = createL1Store<number>({ policy, capacity: MAX_L1_CAPACITY });
    store.set("a", 1);
    expect(store.get("a")).toBe(1);
    expect(store.stats().capacity).toBe(MAX_L1_CAPACITY);
  });
});

describe("a custom store factory", () => {
  it("sizes its own storage: the built-in bound does not apply, the minimum does", () => {
    const seen: number[] = [];
    const factory = (options: L1StoreOptions): L1Store<never> => {
      seen.push(options.capacity);
      return createL1Store({ policy: "lru", capacity: 8 });
    };
    createL1Store({ policy: factory, capacity: 2 ** 32 });
    expect(seen).toEqual([2 ** 32]);
    expect(
      defineDocument({ name: "big", fields, cache: { l1: { ttl: "1s", capacity: 1e9, policy: factory } } }).cache?.l1
        ?.capacity,
    ).toBe(1e9);
    expect(expectConfigurationError(() => createL1Store({ policy: factory, capacity: 0 })).path).toBe("capacity");
  });
});

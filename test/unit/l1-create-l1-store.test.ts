import { describe, expect, it } from "vitest";
import type { ConfigurationError } from "../../src/kernel/errors.js";
import { createL1Store } from "../../src/l1/create-l1-store.js";
import type { L1Store, L1StoreOptions } from "../../src/l1/l1-store.js";
import { LruL1Store } from "../../src/l1/lru-l1-store.js";
import { TinyLfuL1Store } from "../../src/l1/tiny-lfu-l1-store.js";
import { expectConfigurationError } from "../support/throws.js";

function rejection(options: unknown): ConfigurationError {
  return expectConfigurationError(() => createL1Store(options as Parameters<typeof createL1Store>[0]));
}

describe("createL1Store", () => {
  it("builds the named policies, lru by default", () => {
    expect(createL1Store({ policy: "lru", capacity: 4 })).toBeInstanceOf(LruL1Store);
    expect(createL1Store({ policy: "tinylfu", capacity: 4 })).toBeInstanceOf(TinyLfuL1Store);
    expect(createL1Store({ capacity: 4 })).toBeInstanceOf(LruL1Store);
  });

  it("parses ttl as a Duration and passes the clock", () => {
    let t = 5_000;
    for (const policy of ["lru", "tinylfu"] as const) {
      const store = createL1Store<string>({ policy, capacity: 4, ttl: "2s", now: () => t });
      store.set("a", "1");
      t += 2_000;
      expect(store.get("a")).toBe("1");
      t += 1;
      expect(store.get("a")).toBeUndefined();
    }
    const numeric = createL1Store<string>({ capacity: 4, ttl: 10, now: () => t });
    numeric.set("a", "1");
    t += 11;
    expect(numeric.get("a")).toBeUndefined();
  });

  it("hands resolved options to a factory and returns its store", () => {
    let seen: L1StoreOptions | undefined;
    const now = (): number => 0;
    const made = new LruL1Store({ capacity: 3 });
    const store = createL1Store({
      policy: (options) => {
        seen = options;
        return made;
      },
      capacity: 3,
      ttl: "1m",
      now,
    });
    expect(store).toBe(made);
    expect(seen).toEqual({ capacity: 3, ttlMs: 60_000, now });
  });

  it("refuses a factory that returns something else", () => {
    expect(rejection({ policy: () => ({}) as L1Store, capacity: 3 }).path).toBe("policy");
  });

  it("refuses a store lacking any method the runtime calls, naming them", () => {
    const partial = { get: () => undefined, set: () => {} } as unknown as L1Store;
    const error = rejection({ policy: () => partial, capacity: 3 });
    expect(error.path).toBe("policy");
    expect(error.message).toMatch(/lacks invalidate\(\), clear\(\), stats\(\)/);
  });

  it.each([
    [{ capacity: 0 }, "capacity"],
    [{ capacity: -1 }, "capacity"],
    [{ capacity: 2.5 }, "capacity"],
    [{ capacity: "10" }, "capacity"],
    [{}, "capacity"],
    [{ policy: "tinylfu", capacity: 1 }, "capacity"],
    [{ policy: "lfu", capacity: 10 }, "policy"],
    [{ capacity: 10, ttl: 0 }, "ttl"],
    [{ capacity: 10, ttl: "5" }, "ttl"],
    [{ capacity: 10, ttl: "-1s" }, "ttl"],
    [{ capacity: 10, now: 12 }, "now"],
    [{ capacity: 10, ttll: "1s" }, "ttll"],
  ])("rejects %j naming %s", (options, path) => {
    const error = rejection(options);
    expect(error.path).toBe(path);
    expect(error.code).toBe("CONFIGURATION");
    expect(error.message.startsWith(`${path} `)).toBe(true);
  });

  it("explains the tinylfu minimum", () => {
    expect(rejection({ policy: "tinylfu", capacity: 1 }).message).toMatch(/at least|>= 2/);
  });

  it("rejects a non-object", () => {
    expect(rejection(null).code).toBe("CONFIGURATION");
    expect(rejection(10).code).toBe("CONFIGURATION");
  });
});

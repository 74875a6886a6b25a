/**
 * One load per key per process, even for a caller whose store read raced a whole load: its read missed before the
 * leader's fill landed and came back after the leader's flight had ended (a Postgres store reads on a pool, so this
 * happens there). The store is the in-process memory store; only the delivery of one read's answer is held back.
 */
import { describe, expect, it } from "vitest";
import { CacheCore } from "../../src/cache/cache-core.js";
import { KvCache } from "../../src/cache/kv-cache.js";
import { systemClock } from "../../src/kernel/clock.js";
import { silentLogger } from "../../src/kernel/logger.js";
import { kvGenerationKey, kvLeasePrefix, kvPrefix, kvTagPrefix } from "../../src/l2/key-layout.js";
import type { KeyValueStore } from "../../src/l2/key-value-store.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../../src/l2/kv-input.js";
import { MemoryKeyspace } from "../../src/l2/memory/memory-cache-backend.js";
import { MemoryKeyValueStore } from "../../src/l2/memory/memory-key-value-store.js";
import { SingleFlight } from "../../src/read-through/single-flight.js";
import { waitUntil } from "../support/eventually.js";

/** A memory store whose `late`-th read (1-based) answers only once `release` is called; it reads when called. */
function storeWithLateRead(late: number) {
  const name = "late";
  const store = new MemoryKeyValueStore(
    new MemoryKeyspace(systemClock, Number.MAX_SAFE_INTEGER),
    kvPrefix(name),
    kvGenerationKey(name),
    kvTagPrefix(name),
    kvLeasePrefix(name),
  );
  let reads = 0;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === "read") {
        return async (keys: ReadonlyArray<string>) => {
          const n = ++reads;
          const answer = await target.read(keys); // the store's state now, before any later fill
          if (n === late) await held;
          return answer;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as KeyValueStore;
  const core = new CacheCore(name, proxy, DEFAULT_MAX_VALUE_BYTES, systemClock, silentLogger, undefined, undefined);
  return { cache: new KvCache(core, 60_000, () => {}), release, reads: () => reads };
}

describe("getOrSet: a read that raced a whole load", () => {
  it("reads again instead of loading again", async () => {
    const { cache, release, reads } = storeWithLateRead(2);
    let calls = 0;
    const loader = async () => `v${++calls}`;
    const first = cache.getOrSet("k", loader);
    const second = cache.getOrSet("k", loader); // its read misses now, and answers after the first call is done
    expect(await first).toBe("v1");
    await waitUntil(() => reads() >= 2);
    release();
    expect(await second).toBe("v1");
    expect(calls).toBe(1);
    expect(reads()).toBe(3); // the late caller read once more (and hit)
  });

  it("getManyOrSet: the keys whose load raced the read are read again, the others loaded", async () => {
    const { cache, release, reads } = storeWithLateRead(2);
    let calls = 0;
    const loaded: string[][] = [];
    const first = cache.getOrSet("k", async () => `v${++calls}`);
    const many = cache.getManyOrSet(["k", "other"], async (keys) => {
      loaded.push([...keys]);
      return keys.map((key) => `${key}!`);
    });
    expect(await first).toBe("v1");
    await waitUntil(() => reads() >= 2);
    release();
    expect(await many).toEqual(["v1", "other!"]);
    expect(calls).toBe(1);
    expect(loaded).toEqual([["other"]]); // "k" came from the second read, not from a second load
  });

  it("a load that ended for another key leads no extra read", async () => {
    const { cache, release, reads } = storeWithLateRead(2);
    let calls = 0;
    const first = cache.getOrSet("a", async () => `a${++calls}`);
    const second = cache.getOrSet("b", async () => `b${++calls}`);
    expect(await first).toBe("a1");
    release();
    expect(await second).toBe("b2");
    expect(reads()).toBe(2);
  });
});

describe("SingleFlight.settledSince", () => {
  it("names the ids whose flights settled since a mark, and says 'maybe' once the memory overflowed", async () => {
    const flights = new SingleFlight<string>({ remember: true });
    const mark = flights.mark();
    expect(flights.settledSince("x", mark)).toBe(false);
    const one = Promise.resolve("1");
    flights.lead("x", one);
    await one;
    await Promise.resolve();
    expect(flights.settledSince("x", mark)).toBe(true);
    expect(flights.settledSince("y", mark)).toBe(false);
    expect(flights.settledSince("x", flights.mark())).toBe(false);
    const many = Promise.resolve(new Map<string, string | undefined>());
    const before = flights.mark();
    flights.leadBatch(
      Array.from({ length: 300 }, (_, i) => `id${i}`),
      many,
    );
    await many;
    await Promise.resolve();
    expect(flights.settledSince("y", before)).toBe(true); // 300 settles: more than it remembers
    expect(flights.settledSince("id299", flights.mark() - 1)).toBe(true);
    expect(flights.settledSince("id0", flights.mark() - 1)).toBe(false);
  });
});

describe("SingleFlight idle entries", () => {
  it("keeps the entries of ended reads for reuse, and sweeps them once there are many", async () => {
    const flights = new SingleFlight<string>();
    const settle = async (ids: string[]) => {
      const load = Promise.resolve(new Map<string, string | undefined>());
      flights.leadBatch(ids, load);
      await load;
      await Promise.resolve();
    };
    const warm = Array.from({ length: 100 }, (_, i) => `warm${i}`);
    for (let round = 0; round < 50; round++) await settle(warm);
    expect(flights.entries).toBe(100); // the same ids: their entries reused, nothing swept or grown
    expect(flights.idle).toBe(100); // every read ended: every entry idle, none held
    expect(flights.sweeps).toBe(0);
    expect(() => flights.settledSince("warm1", 0)).toThrow(/remember/); // not kept unless asked for
    expect(flights.join("warm1")).toBeUndefined();
    for (let round = 0; round < 50; round++) await settle(Array.from({ length: 100 }, (_, i) => `cold${round}:${i}`));
    expect(flights.entries).toBeLessThanOrEqual(2 * 1024 + 100); // 5,000 ids seen once: swept, not kept
    expect(flights.sweeps).toBeGreaterThan(0);
    const load = new Promise<string | undefined>(() => {});
    flights.lead("warm1", load);
    expect(flights.join("warm1")).toBe(load); // an idle entry takes a new read
    flights.detach("warm1");
    expect(flights.join("warm1")).toBeUndefined();
    flights.detach("never-read");
    expect(flights.join("never-read")).toBeUndefined();
  });
});

/**
 * The contract of the cache API (`runtime.cache(name)`), run against every backend: memory and Redis here
 * (test/integration/cache-api-contract.test.ts), and any later one (a Postgres store: call
 * `describeCacheContract("postgres", open)` from its own test file). Each test gets a fresh fixture: a cache on a
 * fresh namespace, a second cache on the same backend (isolation), and `elapse(ms)`, which moves the runtime's
 * manual clock (freshness, grace, XFetch) and lets the backend's own expiry see that much time pass.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Cache } from "../../src/cache/cache.js";
import { AbortError, ConfigurationError, TimeoutError, ValidationError } from "../../src/kernel/errors.js";
import { waitUntil } from "./eventually.js";
import { rejection } from "./throws.js";

export interface CacheFixture {
  /** A cache on a fresh namespace. */
  readonly cache: Cache;
  /** Another cache on the same backend, another namespace. */
  readonly other: Cache;
  /** Time passes: the manual clock moves by `ms`, and the backend's expiry sees it (real sleep for a server). */
  elapse(ms: number): Promise<void>;
  /** Stops what the fixture started and removes what it wrote. */
  close(): Promise<void>;
}

/** A promise resolved by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

export function describeCacheContract(name: string, open: () => Promise<CacheFixture>): void {
  describe(`cache API contract: ${name}`, () => {
    let fixture: CacheFixture | undefined;
    const start = async () => {
      fixture = await open();
      return fixture;
    };
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it("get/set/exists/delete round-trip JSON and bytes; getMany answers in order", async () => {
      const { cache } = await start();
      expect(await cache.get("a")).toBeUndefined();
      expect(await cache.exists("a")).toBe(false);
      await cache.set("a", { n: 1, list: [1, "x", null] });
      await cache.set("bytes", new Uint8Array([0, 255, 10]));
      expect(await cache.get("a")).toEqual({ n: 1, list: [1, "x", null] });
      expect([...((await cache.get<Uint8Array>("bytes")) ?? [])]).toEqual([0, 255, 10]);
      expect(await cache.exists("a")).toBe(true);
      expect(await cache.getMany(["a", "missing", "a"])).toEqual([
        { n: 1, list: [1, "x", null] },
        undefined,
        {
          n: 1,
          list: [1, "x", null],
        },
      ]);
      expect(await cache.delete("a")).toBe(true);
      expect(await cache.delete("a")).toBe(false);
      expect(await cache.get("a")).toBeUndefined();
    });

    it("setMany gives each entry its own ttl and tags; deleteMany counts what existed", async () => {
      const { cache, elapse } = await start();
      await cache.setMany(
        [
          ["short", 1, { ttl: 300 }],
          ["long", 2],
          ["tagged", 3, { tags: ["t"] }],
        ],
        { ttl: "10s" },
      );
      expect(await cache.getMany(["short", "long", "tagged"])).toEqual([1, 2, 3]);
      const short = await cache.ttl("short");
      expect(short).toBeGreaterThan(0);
      expect(short).toBeLessThanOrEqual(300);
      expect(await cache.ttl("long")).toBeGreaterThan(5_000);
      await elapse(350);
      expect(await cache.getMany(["short", "long"])).toEqual([undefined, 2]);
      await cache.invalidateTags(["t"]);
      expect(await cache.get("tagged")).toBeUndefined();
      expect(await cache.deleteMany(["long", "short", "nope"])).toBe(1);
    });

    it("ttl, touch and expire act on live entries only", async () => {
      const { cache, elapse } = await start();
      expect(await cache.ttl("k")).toBeUndefined();
      expect(await cache.touch("k")).toBe(false);
      expect(await cache.expire("k", "1s")).toBe(false);
      await cache.set("k", "v", { ttl: 200 });
      expect(await cache.expire("k", "10s")).toBe(true);
      expect(await cache.ttl("k")).toBeGreaterThan(5_000);
      expect(await cache.touch("k", 300)).toBe(true);
      expect(await cache.ttl("k")).toBeLessThanOrEqual(300);
      await elapse(350);
      expect(await cache.get("k")).toBeUndefined();
      expect(await cache.ttl("k")).toBeUndefined();
    });

    it("add stores only when the key is absent (or expired, or cleared)", async () => {
      const { cache, elapse } = await start();
      expect(await cache.add("k", 1, { ttl: 100 })).toBe(true);
      expect(await cache.add("k", 2)).toBe(false);
      expect(await cache.get("k")).toBe(1);
      await elapse(150);
      expect(await cache.add("k", 3)).toBe(true);
      await cache.clear();
      expect(await cache.add("k", 4)).toBe(true);
      await cache.set("t", 5, { tags: ["x"] });
      await cache.invalidateTags(["x"]);
      expect(await cache.add("t", 6)).toBe(true);
      expect(await cache.getMany(["k", "t"])).toEqual([4, 6]);
    });

    it("racing adds: exactly one wins, and its value is stored (property)", async () => {
      const { cache } = await start();
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 40 }), async (racers) => {
          const key = `race:${round++}`;
          const results = await Promise.all(Array.from({ length: racers }, (_, i) => cache.add(key, i)));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await cache.get(key)).toBe(results.indexOf(true));
        }),
        { numRuns: 15 },
      );
    });

    it("pull returns the value and deletes it; of racing pulls exactly one gets it (property)", async () => {
      const { cache } = await start();
      await cache.set("p", { v: 1 });
      expect(await cache.pull("p")).toEqual({ v: 1 });
      expect(await cache.pull("p")).toBeUndefined();
      expect(await cache.exists("p")).toBe(false);
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 40 }), async (racers) => {
          const key = `pull:${round++}`;
          await cache.set(key, round);
          const got = await Promise.all(Array.from({ length: racers }, () => cache.pull(key)));
          expect(got.filter((v) => v !== undefined)).toEqual([round]);
        }),
        { numRuns: 15 },
      );
    });

    it("increment/decrement: atomic integers; ttl set on creation and kept; floor and ceiling clamp", async () => {
      const { cache, elapse } = await start();
      expect(await cache.increment("c")).toBe(1);
      expect(await cache.increment("c", 5)).toBe(6);
      expect(await cache.decrement("c", 2)).toBe(4);
      expect(await cache.get("c")).toBe(4);
      expect(await cache.decrement("d", 3, { floor: 0 })).toBe(0);
      expect(await cache.increment("d", 10, { ceiling: 7 })).toBe(7);
      await cache.set("seeded", 41);
      expect(await cache.increment("seeded")).toBe(42);
      expect(await cache.increment("ttl", 1, { ttl: 200 })).toBe(1);
      await elapse(100);
      expect(await cache.increment("ttl", 1, { ttl: "1h" })).toBe(2); // the first ttl is kept
      expect(await cache.ttl("ttl")).toBeLessThanOrEqual(100);
      await elapse(150);
      expect(await cache.get("ttl")).toBeUndefined();
      expect(await cache.increment("ttl")).toBe(1); // expired: starts over
      await cache.set("text", "abc");
      const notCounter = await rejection(cache.increment("text"));
      expect(notCounter).toBeInstanceOf(ValidationError);
      expect((notCounter as ValidationError).issues[0]?.code).toBe("not_a_counter");
      expect(await cache.get("text")).toBe("abc");
      await cache.set("big", Number.MAX_SAFE_INTEGER);
      const overflow = await rejection(cache.increment("big"));
      expect((overflow as ValidationError).issues[0]?.code).toBe("overflow");
      expect(await cache.get("big")).toBe(Number.MAX_SAFE_INTEGER);
      expect(await rejection(cache.increment("c", 1.5))).toBeInstanceOf(ValidationError);
      expect(await rejection(cache.increment("c", 1, { floor: 5, ceiling: 1 }))).toBeInstanceOf(ValidationError);
      expect(await cache.get("c")).toBe(4);
    });

    it("concurrent increments sum exactly (1,000 at once, and a fast-check model)", async () => {
      const { cache } = await start();
      await Promise.all(Array.from({ length: 1_000 }, () => cache.increment("hits")));
      expect(await cache.get("hits")).toBe(1_000);
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 200 }), async (bys) => {
          const key = `model:${round++}`;
          const results = await Promise.all(bys.map((by) => cache.increment(key, by)));
          const sum = bys.reduce((a, b) => a + b, 0);
          expect(await cache.get(key)).toBe(sum);
          expect(new Set(results).size).toBeLessThanOrEqual(bys.length);
          expect(results).toContain(sum); // the last one applied saw the total
        }),
        { numRuns: 20 },
      );
    });

    it("invalidateTags misses exactly the tagged entries; re-set entries live again", async () => {
      const { cache } = await start();
      await cache.set("u1", "a", { tags: ["user:1", "team:9"] });
      await cache.set("u2", "b", { tags: ["user:2", "team:9"] });
      await cache.set("plain", "c");
      await cache.invalidateTags(["user:1"]);
      expect(await cache.getMany(["u1", "u2", "plain"])).toEqual([undefined, "b", "c"]);
      await cache.invalidateTags(["team:9"]);
      expect(await cache.getMany(["u1", "u2", "plain"])).toEqual([undefined, undefined, "c"]);
      await cache.set("u1", "a2", { tags: ["user:1"] });
      expect(await cache.get("u1")).toBe("a2");
      expect(await cache.exists("u2")).toBe(false);
      expect(await cache.pull("u2")).toBeUndefined();
      expect(await cache.ttl("u2")).toBeUndefined();
    });

    it("clear() misses every entry of this cache only; counters restart; writes after it live", async () => {
      const { cache, other } = await start();
      await cache.set("a", 1);
      await cache.increment("n", 5);
      await other.set("a", "other");
      await cache.clear();
      expect(await cache.getMany(["a", "n"])).toEqual([undefined, undefined]);
      expect(await other.get("a")).toBe("other");
      expect(await cache.increment("n")).toBe(1);
      await cache.set("a", 2);
      expect(await cache.get("a")).toBe(2);
      await cache.clear();
      await cache.clear();
      expect(await cache.get("a")).toBeUndefined();
    });

    it("isolates caches: same key, separate values", async () => {
      const { cache, other } = await start();
      await cache.set("k", 1);
      await other.set("k", 2);
      await cache.increment("n");
      expect([await cache.get("k"), await other.get("k"), await other.get("n")]).toEqual([1, 2, undefined]);
    });

    it("getOrSet: a miss runs the loader once and caches; a hit does not call it; errors are not cached", async () => {
      const { cache } = await start();
      let calls = 0;
      const loader = async () => ({ n: ++calls });
      expect(await cache.getOrSet("k", loader)).toEqual({ n: 1 });
      expect(await cache.remember("k", loader)).toEqual({ n: 1 });
      expect(calls).toBe(1);
      const boom = new Error("loader failed");
      expect(await rejection(cache.getOrSet("e", () => Promise.reject(boom)))).toBe(boom);
      expect(await cache.exists("e")).toBe(false);
      expect(await cache.getOrSet("e", () => "fine")).toBe("fine");
      expect(cache.stats().loadErrors).toBe(1);
    });

    it("getOrSet single-flight: concurrent misses share one loader run, and its error", async () => {
      const { cache } = await start();
      const gate = deferred<string>();
      let calls = 0;
      const all = Promise.all(
        Array.from({ length: 100 }, () =>
          cache.getOrSet("sf", () => {
            calls++;
            return gate.promise;
          }),
        ),
      );
      // The loader answers as soon as it runs, while most callers' store reads are still on their way: a caller whose
      // read missed before the fill landed but came back after the load ended must read again, not load again (a
      // Postgres store reads on a pool, so a whole load can start and end during one read).
      await waitUntil(() => calls >= 1, { timeoutMs: 10_000, intervalMs: 1 });
      gate.resolve("one");
      expect(new Set(await all)).toEqual(new Set(["one"]));
      expect(calls).toBe(1);
      const failing = deferred<string>();
      failing.promise.catch(() => {}); // rejected before any loader may have picked it up
      const racers = Array.from({ length: 10 }, () => cache.getOrSet("sf-err", () => failing.promise));
      await tick();
      failing.reject(new Error("shared"));
      const settled = await Promise.allSettled(racers);
      for (const result of settled) {
        expect(result.status === "rejected" && (result.reason as Error).message).toBe("shared");
      }
    });

    it("getOrSet schema: a cached value that fails it is a counted miss and is replaced; a bad load is refused", async () => {
      const { cache } = await start();
      const schema = z.object({ id: z.number() });
      await cache.set("s", { id: "not a number" });
      expect(await cache.getOrSet("s", () => ({ id: 7 }), { schema })).toEqual({ id: 7 });
      expect(cache.stats().schemaMisses).toBe(1);
      expect(await cache.get("s")).toEqual({ id: 7 });
      const refused = await rejection(cache.getOrSet("bad", () => ({ id: "x" }) as never, { schema }));
      expect(refused).toBeInstanceOf(ValidationError);
      expect(await cache.exists("bad")).toBe(false);
    });

    it("grace: a failing loader is answered by the stale value until ttl + grace has passed", async () => {
      const { cache, elapse } = await start();
      const options = { ttl: 100, grace: 300 } as const;
      expect(await cache.getOrSet("g", () => "v1", options)).toBe("v1");
      await elapse(150); // stale, within grace
      const failing = () => Promise.reject(new Error("source down"));
      expect(await cache.getOrSet("g", failing, options)).toBe("v1");
      expect(cache.stats().staleServed).toBe(1);
      expect(await cache.getOrSet("g", () => "v2", options)).toBe("v2"); // a working loader refreshes it
      await elapse(450); // past ttl + grace: nothing to fall back on
      expect(((await rejection(cache.getOrSet("g", failing, options))) as Error).message).toBe("source down");
    });

    it("timeout.soft serves the stale value and lets the loader finish in the background", async () => {
      const { cache, elapse } = await start();
      const options = { ttl: 100, grace: "10s", timeout: { soft: 20 } } as const;
      await cache.getOrSet("s", () => "old", options);
      await elapse(150);
      const slow = deferred<string>();
      expect(await cache.getOrSet("s", () => slow.promise, options)).toBe("old");
      expect(cache.stats().timeouts.soft).toBe(1);
      slow.resolve("new");
      await expect.poll(() => cache.get("s")).toBe("new");
    });

    it("timeout.hard gives up: TimeoutError without a stale value, the stale value with one", async () => {
      const { cache, elapse } = await start();
      let aborted = false;
      const never = ({ signal }: { signal: AbortSignal }) =>
        new Promise<string>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve("too late");
          });
        });
      const error = await rejection(cache.getOrSet("h", never, { timeout: { hard: 30 } }));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(aborted).toBe(true);
      expect(await cache.exists("h")).toBe(false);
      await cache.getOrSet("h", () => "kept", { ttl: 100, grace: "10s" });
      await elapse(150);
      expect(await cache.getOrSet("h", never, { ttl: 100, grace: "10s", timeout: { hard: 30 } })).toBe("kept");
      expect(cache.stats().timeouts.hard).toBe(2);
    });

    it("earlyRefresh (XFetch): an elected hit recomputes (inline waits, background does not); others do not", async () => {
      const { cache, elapse } = await start();
      let calls = 0;
      const loader = () => `v${++calls}`;
      await cache.getOrSet("x", loader, { ttl: "1h", earlyRefresh: true });
      // beta tiny: far from expiry nobody is elected.
      expect(await cache.getOrSet("x", loader, { ttl: "1h", earlyRefresh: { beta: 1e-9 } })).toBe("v1");
      await elapse(10);
      // beta huge: every hit is elected. Inline: this caller gets the new value.
      expect(await cache.getOrSet("x", loader, { ttl: "1h", earlyRefresh: { beta: 1e12, background: false } })).toBe(
        "v2",
      );
      // Background: this caller gets the cached value at once; the refresh lands after.
      expect(await cache.getOrSet("x", loader, { ttl: "1h", earlyRefresh: { beta: 1e12 } })).toBe("v2");
      await expect.poll(() => cache.get("x")).toBe("v3");
      expect(cache.stats().earlyRefreshes).toBe(2);
    });

    it("negative caching is opt-in: cacheUndefined and notFoundTtl", async () => {
      const { cache, elapse } = await start();
      let calls = 0;
      const none = () => {
        calls++;
        return undefined;
      };
      expect(await cache.getOrSet("n", none)).toBeUndefined();
      expect(await cache.getOrSet("n", none)).toBeUndefined();
      expect(calls).toBe(2);
      expect(await cache.getOrSet("m", none, { cacheUndefined: true })).toBeUndefined();
      expect(await cache.getOrSet("m", none, { cacheUndefined: true })).toBeUndefined();
      expect(calls).toBe(3);
      expect(await cache.getOrSet("t", none, { notFoundTtl: 100 })).toBeUndefined();
      await elapse(150);
      expect(await cache.getOrSet("t", none, { notFoundTtl: 100 })).toBeUndefined();
      expect(calls).toBe(5);
    });

    it("signal: an aborted caller gets AbortError; the shared loader finishes for the others", async () => {
      const { cache } = await start();
      const gate = deferred<string>();
      const controller = new AbortController();
      let leading = false;
      const leaving = cache.getOrSet(
        "a",
        () => {
          leading = true;
          return gate.promise;
        },
        { signal: controller.signal },
      );
      await expect.poll(() => leading).toBe(true);
      const staying = cache.getOrSet("a", () => "never called");
      await expect.poll(() => cache.stats().joined).toBe(1);
      controller.abort();
      expect(await rejection(leaving)).toBeInstanceOf(AbortError);
      gate.resolve("done");
      expect(await staying).toBe("done");
      expect(await cache.get("a")).toBe("done");
      const already = await rejection(cache.getOrSet("b", () => "x", { signal: AbortSignal.abort() }));
      expect(already).toBeInstanceOf(AbortError);
      expect(await cache.exists("b")).toBe(false);
    });

    it("getManyOrSet: hits from one read, misses from one loader call, joined by concurrent getOrSet", async () => {
      const { cache } = await start();
      await cache.set("a", "A");
      const batches: string[][] = [];
      const gate = deferred<void>();
      const loading = deferred<void>();
      const many = cache.getManyOrSet(["a", "b", "c", "b"], async (keys) => {
        batches.push([...keys]);
        loading.resolve();
        await gate.promise;
        return new Map(keys.filter((k) => k !== "c").map((k) => [k, k.toUpperCase()]));
      });
      // The batch is loading (its store read done, its keys in flight): a few ticks are not enough on a store whose
      // read is real I/O (Postgres), and a getOrSet sent before would lead its own load, which the batch then joins.
      await loading.promise;
      let single = 0;
      const joined = cache.getOrSet("b", () => `single${++single}`);
      gate.resolve();
      expect(await many).toEqual(["A", "B", undefined, "B"]);
      expect(await joined).toBe("B");
      expect(single).toBe(0);
      expect(batches).toEqual([["b", "c"]]);
      expect(await cache.getMany(["b", "c"])).toEqual(["B", undefined]);
    });

    it("refuses bad input whole, writing nothing", async () => {
      const { cache } = await start();
      const cases: Array<[string, () => Promise<unknown>, new (...args: never[]) => Error]> = [
        ["empty key", () => cache.set("", 1), ValidationError],
        ["control char", () => cache.set("a\nb", 1), ValidationError],
        ["long key", () => cache.set("k".repeat(1025), 1), ValidationError],
        ["bad ttl", () => cache.set("k", 1, { ttl: "soon" as never }), ConfigurationError],
        ["unknown option", () => cache.set("k", 1, { tll: "5m" } as never), ValidationError],
        ["bad tag", () => cache.set("k", 1, { tags: ["a|b"] }), ValidationError],
        ["not json", () => cache.set("k", () => 1), ValidationError],
        [
          "setMany one bad",
          () =>
            cache.setMany([
              ["k", 1],
              ["k2", undefined],
            ]),
          ValidationError,
        ],
        ["setMany bad own option", () => cache.setMany([["k", 1, { ttl: -1 }]]), ConfigurationError],
        ["loader not fn", () => cache.getOrSet("k", "nope" as never), ValidationError],
        ["bad grace", () => cache.getOrSet("k", () => 1, { grace: "forever" as never }), ConfigurationError],
        ["soft > hard", () => cache.getOrSet("k", () => 1, { timeout: { soft: 50, hard: 10 } }), ValidationError],
        ["bad by", () => cache.increment("k", Number.NaN), ValidationError],
        ["bad tags call", () => cache.invalidateTags("t" as never), ValidationError],
      ];
      for (const [label, call, kind] of cases) expect(await rejection(call), label).toBeInstanceOf(kind);
      expect(await cache.getMany(["k", "k2"])).toEqual([undefined, undefined]);
    });
  });
}

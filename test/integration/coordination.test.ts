/**
 * Locks and rate limits on all three backends (the in-process store, Redis, the Postgres cache table), through the
 * public API (`CacheCoordination`, what `cache.lock` / `cache.withLock` / `cache.rateLimit` run): mutual exclusion
 * under 50 concurrent contenders, owner-only release and extend, expiry reported to the holder, fencing tokens
 * strictly increasing across holders, waiting acquires that honour `wait` and `signal`; rate limits exact under
 * concurrency, `retryAfter` exact, and a fast-check model of all three algorithms against an independent reference
 * on a fake clock. Contenders across processes and the fault cases live in coordination-faults.test.ts.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheLock } from "../../src/coordination/cache-lock.js";
import type { RateLimitAlgorithm } from "../../src/coordination/rate-limit-model.js";
import {
  AbortError,
  LockLostError,
  LockTimeoutError,
  RuntimeStateError,
  ValidationError,
} from "../../src/kernel/errors.js";
import { silentLogger } from "../../src/kernel/logger.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { postgresCacheModule } from "../../src/runtime/modules/postgres-cache-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import {
  COORDINATION_KINDS,
  type CoordinationKind,
  type OpenedCoordination,
  openCoordination,
} from "../support/coordination-backends.js";
import { referenceLimiter } from "../support/rate-limit-reference.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock } from "../support/strata.js";

const env = await integrationEnv({ postgres: true, redis: true });
const ALGORITHMS: ReadonlyArray<RateLimitAlgorithm> = ["fixed", "sliding", "gcra"];

describe.skipIf(env.skip).each(COORDINATION_KINDS)("coordination on %s", (kind: CoordinationKind) => {
  let backend: OpenedCoordination;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 123));

  beforeAll(async () => {
    backend = await openCoordination(kind, { redisUrl: env.redisUrl!, databaseUrl: env.postgres!.url }, clock);
  });
  afterAll(async () => {
    await backend?.close();
  });

  const key = () => `k-${randomUUID().slice(0, 8)}`;

  describe("locks", () => {
    it("50 concurrent contenders: a counter incremented only under the lock ends exact, tokens strictly increase", async () => {
      const api = backend.api();
      const lockKey = key();
      let counter = 0;
      let inside = 0;
      let overlap = 0;
      const tokens: number[] = [];
      await Promise.all(
        Array.from({ length: 50 }, () =>
          api.withLock(
            lockKey,
            async (lock) => {
              if (++inside > 1) overlap++;
              tokens.push(lock.fencingToken!);
              const read = counter;
              await new Promise((resolve) => setImmediate(resolve));
              counter = read + 1;
              inside--;
            },
            { ttl: "30s", wait: "60s", retry: { initial: 1, max: 20 } },
          ),
        ),
      );
      expect(overlap).toBe(0);
      expect(counter).toBe(50);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    });

    it("refuses release and extend by a non-owner; the owner's release is idempotent", async () => {
      const api = backend.api();
      const lockKey = key();
      const owner = api.lock(lockKey, { ttl: "30s" });
      const intruder = api.lock(lockKey, { ttl: "30s" });
      expect(await owner.acquire()).toBe(true);
      expect(await intruder.acquire()).toBe(false);
      expect(await intruder.release()).toBe(false);
      expect(await intruder.extend()).toBe(false);
      expect(await intruder.isHeld()).toBe(false);
      // The store itself checks the owner token (a handle never sends a release it does not believe it holds).
      expect(await backend.stores.locks.release(lockKey, intruder.owner)).toBe(false);
      expect(await backend.stores.locks.extend(lockKey, intruder.owner, 60_000)).toBe(false);
      expect(await backend.stores.locks.heldFor(lockKey, intruder.owner)).toBe(0);
      expect(await owner.isHeld()).toBe(true);
      expect(await owner.extend("40s")).toBe(true);
      expect(await owner.release()).toBe(true);
      expect(await owner.release()).toBe(false);
      expect(await intruder.acquire()).toBe(true);
      expect(intruder.fencingToken).toBeGreaterThan(0);
      await intruder.release();
    });

    it("expiry while held is reported to the holder; the next holder's token is greater and the late holder is refused", async () => {
      const api = backend.api();
      const lockKey = key();
      let reported: LockLostError | undefined;
      const late = api.lock(lockKey, { ttl: 150, onLost: (error) => (reported = error) });
      expect(await late.acquire()).toBe(true);
      const firstToken = late.fencingToken!;
      const signal = late.signal!;
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      expect(signal.reason).toBeInstanceOf(LockLostError);
      expect(reported).toBe(signal.reason);
      expect(reported?.code).toBe("LOCK_LOST");
      expect(reported?.fencingToken).toBe(firstToken);
      const next = api.lock(lockKey, { ttl: "30s" });
      // The holder's deadline passes no later than the store's: wait for the store to let the next owner in.
      expect(await next.acquire({ wait: "5s", retry: { initial: 5, max: 20 } })).toBe(true);
      expect(next.fencingToken).toBeGreaterThan(firstToken);
      expect(await late.extend()).toBe(false);
      expect(await late.release()).toBe(false);
      expect(await next.isHeld()).toBe(true);
      await next.release();
    });

    it("a waiting acquire honours wait (false once it passes) and signal (AbortError, holding nothing)", async () => {
      const api = backend.api();
      const lockKey = key();
      const holder = api.lock(lockKey, { ttl: "30s" });
      await holder.acquire();
      const waiter = api.lock(lockKey, { ttl: "30s" });
      expect(await waiter.acquire({ wait: 60, retry: { initial: 5, max: 10 } })).toBe(false);
      const controller = new AbortController();
      const waiting = waiter.acquire({ wait: "30s", signal: controller.signal });
      setTimeout(() => controller.abort(new Error("caller gave up")), 30);
      await expect(waiting).rejects.toBeInstanceOf(AbortError);
      expect(waiter.fencingToken).toBeUndefined();
      // The holder releases while another waits: the waiter gets it within its wait.
      const second = waiter.acquire({ wait: "30s", retry: { initial: 5, max: 10 } });
      setTimeout(() => void holder.release(), 30);
      expect(await second).toBe(true);
      expect(waiter.fencingToken).toBeGreaterThan(0);
      await waiter.release();
      await expect(waiter.acquire({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    });

    it("withLock releases on every path and reports a timeout and a loss as typed errors", async () => {
      const api = backend.api();
      const lockKey = key();
      await expect(
        api.withLock(lockKey, async () => Promise.reject(new Error("boom")), { ttl: "30s" }),
      ).rejects.toThrow("boom");
      const after = api.lock(lockKey, { ttl: "30s" });
      expect(await after.acquire()).toBe(true); // released despite the throw
      const timeout = await api
        .withLock(lockKey, async () => "never", { ttl: "30s", wait: 40, retry: { initial: 5, max: 10 } })
        .catch((error: unknown) => error);
      expect(timeout).toBeInstanceOf(LockTimeoutError);
      expect((timeout as LockTimeoutError).code).toBe("LOCKED");
      await after.release();
      let seen: CacheLock | undefined;
      const lost = await api
        .withLock(
          lockKey,
          async (lock) => {
            seen = lock;
            await new Promise((resolve) => lock.signal!.addEventListener("abort", resolve, { once: true }));
            return "finished after the loss";
          },
          { ttl: 100 },
        )
        .catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(LockLostError);
      expect(seen?.fencingToken).toBeUndefined(); // released (nothing held) after withLock
    });

    it("refuses bad keys and options whole, before anything is sent", async () => {
      const api = backend.api();
      expect(() => api.lock("", { ttl: "1s" })).toThrow(ValidationError);
      expect(() => api.lock("k", { ttl: "soon" as never })).toThrow(ValidationError);
      expect(() => api.lock("k", { ttl: "1s", tll: 1 } as never)).toThrow(ValidationError);
      await expect(api.lock("k", { ttl: "1s" }).acquire({ wait: -1 as never })).rejects.toThrow(ValidationError);
      await expect(api.rateLimit("k", { limit: 0, window: "1s" })).rejects.toThrow(ValidationError);
      await expect(api.rateLimit("k", { limit: 5, window: "1s", cost: 6 })).rejects.toThrow(ValidationError);
      await expect(api.rateLimit("k", { limit: 5, window: "8d" })).rejects.toThrow(ValidationError);
      await expect(api.rateLimit("k", { limit: 5, window: "1s", algorithm: "leaky" as never })).rejects.toThrow(
        ValidationError,
      );
      expect((await api.rateLimit("k", { limit: 5, window: "1s", peek: true })).remaining).toBe(5);
    });
  });

  describe("rate limits", () => {
    it.each(ALGORITHMS)("%s: exactly `limit` of 120 concurrent requests pass in one window", async (algorithm) => {
      const api = backend.api(new ManualClock(Date.UTC(2026, 0, 1, 12)));
      const rateKey = key();
      const results = await Promise.all(
        Array.from({ length: 120 }, () => api.rateLimit(rateKey, { limit: 50, window: "1h", algorithm })),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(50);
      expect(results.filter((r) => !r.allowed).every((r) => r.remaining === 0 && r.retryAfter > 0)).toBe(true);
    });

    it.each(ALGORITHMS)("%s: retryAfter is exact — denied 1 ms before it, allowed at it", async (algorithm) => {
      const fake = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 250));
      const api = backend.api(fake);
      const rateKey = key();
      const options = { limit: 3, window: 1000, algorithm, cost: 2 } as const;
      await api.rateLimit(rateKey, { ...options, cost: 1 });
      fake.advance(400);
      await api.rateLimit(rateKey, options);
      const denied = await api.rateLimit(rateKey, options);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfter).toBeGreaterThan(0);
      fake.advance(denied.retryAfter - 1);
      expect((await api.rateLimit(rateKey, { ...options, peek: true })).allowed).toBe(false);
      fake.advance(1);
      expect((await api.rateLimit(rateKey, options)).allowed).toBe(true);
    });

    it("matches an independent reference of all three algorithms, step by step, on a fake clock (fast-check)", async () => {
      const step = fc.record({ dt: fc.nat({ max: 2500 }), cost: fc.integer({ min: 1, max: 5 }), peek: fc.boolean() });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ALGORITHMS),
          fc.integer({ min: 1, max: 5 }),
          fc.constantFrom(5, 7, 100, 1000),
          fc.integer({ min: 0, max: 10_000 }),
          fc.array(step, { minLength: 1, maxLength: 25 }),
          async (algorithm, limit, window, offset, steps) => {
            const fake = new ManualClock(Date.UTC(2026, 0, 1) + offset);
            const api = backend.api(fake);
            const reference = referenceLimiter(algorithm, limit, window);
            const rateKey = key();
            for (const { dt, cost, peek } of steps) {
              fake.advance(window >= 100 ? dt : dt % (3 * window));
              const weight = Math.min(cost, limit);
              const got = await api.rateLimit(rateKey, { limit, window, algorithm, cost: weight, peek });
              expect(got).toEqual(reference.request(fake.now(), weight, peek));
            }
          },
        ),
        { numRuns: kind === "memory" ? 150 : 30, seed: 1606 },
      );
    });
  });
});

describe.skipIf(env.skip)("cache.lock, cache.withLock and cache.rateLimit through runtime.cache(name)", () => {
  it.each(COORDINATION_KINDS)(
    "on %s: the facade reaches the module's stores, and refuses calls after stop()",
    async (kind) => {
      const namespace = `facade:${randomUUID().slice(0, 8)}`;
      const caches = { c: { namespace } };
      const module =
        kind === "memory"
          ? memoryCacheModule({ caches })
          : kind === "redis"
            ? redisModule({ url: env.redisUrl!, caches })
            : postgresCacheModule({ url: env.postgres!.url, caches });
      const runtime = createRuntime({ modules: [module], logger: silentLogger, clock: new ManualClock() });
      await runtime.start();
      const cache = runtime.cache("c");
      try {
        const lock = cache.lock("job", { ttl: "30s" });
        expect(await lock.acquire()).toBe(true);
        expect(await cache.lock("job", { ttl: "30s" }).acquire()).toBe(false);
        const first = lock.fencingToken!;
        await lock.release();
        expect(await cache.withLock("job", async (held) => held.fencingToken, { ttl: "5s" })).toBeGreaterThan(first);
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await cache.rateLimit("api", { limit: 3, window: "1m" }));
        expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
        // Lock and rate-limit keys never meet value keys.
        expect(await cache.get("job")).toBeUndefined();
        expect(await cache.get("api")).toBeUndefined();
      } finally {
        await runtime.stop();
      }
      await expect(cache.rateLimit("api", { limit: 3, window: "1m" })).rejects.toBeInstanceOf(RuntimeStateError);
      expect(() => cache.lock("job", { ttl: "1s" })).toThrow(RuntimeStateError);
    },
  );
});

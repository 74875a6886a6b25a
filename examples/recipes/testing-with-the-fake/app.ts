/**
 * testing-with-the-fake: unit-test code that uses the cache API without Redis. `createCacheFake()` is a working cache
 * (the real getOrSet, counters, tags) that records every call; `nullCacheModule` is a backend that stores nothing,
 * to prove code still works with the cache switched off. Run with `just run`.
 */
import type { Cache } from "../../../src/index.js";
import { createCacheFake, createRuntime, nullCacheModule, silentLogger } from "../../../src/index.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`testing-with-the-fake recipe: ${message}`);
}

/** The code under test: a service that takes a cache (in production, `runtime.cache("profiles")`). */
class ProfileService {
  dbReads = 0;
  constructor(private readonly cache: Cache) {}
  profile(id: number) {
    return this.cache.getOrSet(
      `profile:${id}`,
      async () => {
        this.dbReads++;
        return { id, name: `user ${id}` };
      },
      { tags: [`user:${id}`] },
    );
  }
  rename(id: number) {
    return this.cache.invalidateTags([`user:${id}`]);
  }
}

// 1. With the recording fake.
const fake = createCacheFake({ name: "profiles" });
const service = new ProfileService(fake);
await service.profile(1);
await service.profile(1);
await service.rename(1);
await service.profile(1);
fake.expectCalled("getOrSet", "profile:1", 3);
fake.expectCalled("invalidateTags", undefined, 1);
const tiers = fake.calls("getOrSet", "profile:1").map((c) => c.tier);
console.log(`fake: getOrSet(profile:1) ×${tiers.length} answered by ${tiers.join(", ")}; db reads=${service.dbReads}`);
check(service.dbReads === 2, "the rename forced one reload");
try {
  fake.expectCalled("getOrSet", "profile:2", 1);
} catch (error) {
  console.log(`fake: a failed expectation reads → ${(error as Error).message.split(";")[0]}`);
}
fake.reset();
console.log(`fake.reset() → ${fake.recorded.length} recorded calls`);

// 2. With the null backend: every read misses, so every call reaches the database, and nothing breaks.
const runtime = createRuntime({ modules: [nullCacheModule({ caches: { profiles: {} } })], logger: silentLogger });
await runtime.start();
try {
  const uncached = new ProfileService(runtime.cache("profiles"));
  for (let i = 0; i < 3; i++) await uncached.profile(7);
  console.log(
    `null backend: 3 × profile(7) → db reads=${uncached.dbReads} (${runtime.stats().caches.profiles?.backend} stores nothing)`,
  );
  check(uncached.dbReads === 3, "null backend misses");
} finally {
  await runtime.stop();
}

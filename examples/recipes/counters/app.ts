/**
 * counters: atomic integers across every replica — page views, a per-minute quota with a ceiling, a stock level
 * that never goes below zero. `increment`/`decrement` are one atomic step in the store (a Lua script on Redis), the
 * TTL is set when the counter is created and kept after. Run with `just run`.
 */
import { createRuntime, silentLogger } from "../../../src/index.js";
import { cacheEngine } from "../shared/cache-engine.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`counters recipe: ${message}`);
}

const engine = cacheEngine("counters");
console.log(`engine: ${engine.label}`);
// Two runtimes on the same Redis stand in for two replicas of a service (the in-process store is one process's own,
// so without REDIS_URL both "replicas" are one runtime).
const replicas = (process.env.REDIS_URL ? [0, 1] : [0]).map(() =>
  createRuntime({ modules: [engine.module({ counters: { ttl: "1h" } })], logger: silentLogger }),
);
await Promise.all(replicas.map((r) => r.start()));
try {
  const a = replicas[0]!.cache("counters");
  const b = replicas.at(-1)!.cache("counters");

  // 1,000 concurrent page views, split over two replicas: the count is exact.
  await Promise.all(Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? a : b).increment("views:/home")));
  const views = await a.get<number>("views:/home");
  console.log(`1,000 concurrent increments over 2 replicas → views=${views}`);
  check(views === 1_000, "exact count");

  // A quota: at most 3 calls per window; the ceiling clamps, the count says whether this call is allowed.
  const window = "quota:alice:" + Math.floor(Date.now() / 60_000);
  const answers = [];
  for (let i = 0; i < 5; i++) {
    const used = await a.increment(window, 1, { ttl: "1m", ceiling: 4 });
    answers.push(used <= 3 ? "allowed" : "refused");
  }
  const ttl = await a.ttl(window);
  console.log(
    `5 calls against a quota of 3 → ${answers.join(", ")}; window expires in ≤ ${Math.ceil((ttl ?? 0) / 1000)}s`,
  );
  check(answers.join() === "allowed,allowed,allowed,refused,refused", "quota");

  // Stock that never goes negative: 12 concurrent orders of 1 against a stock of 10.
  await a.set("stock:sku-42", 10);
  const left = await Promise.all(Array.from({ length: 12 }, () => b.decrement("stock:sku-42", 1, { floor: 0 })));
  console.log(
    `12 concurrent decrements of a stock of 10 (floor 0) → final stock=${await a.get("stock:sku-42")}, lowest answer=${Math.min(...left)}`,
  );
  check((await a.get("stock:sku-42")) === 0, "floor");

  // The TTL is set on creation and kept: a later increment with another ttl does not extend it.
  await a.increment("burst", 1, { ttl: "2s" });
  await a.increment("burst", 1, { ttl: "1h" });
  const burstTtl = (await a.ttl("burst")) ?? 0;
  console.log(`increment with ttl 2s, then with ttl 1h → ttl ≤ ${Math.ceil(burstTtl / 1000)}s (kept)`);
  check(burstTtl <= 2_000, "ttl kept");
  await a.clear();
  console.log(`clear() → views=${await b.get("views:/home")} (every counter of this cache is gone, on every replica)`);
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
  await engine.cleanup();
}

/**
 * Rate limits: `cache.rateLimit(key, { limit, window, algorithm })`, one atomic step on the store (a Lua script on
 * Redis, one statement on Postgres, one synchronous step in memory), so replicas share one exact budget. This
 * replaces the key-value recipe's read-modify-write counter, which lets extra requests through across replicas.
 * Shown: exactly `limit` of 60 concurrent requests pass; `retryAfter` is exact; at a window edge `fixed` lets a
 * double burst through while `sliding` and `gcra` do not; `cost` and `peek`. The runtime runs on a manual clock, so
 * the window edges are exact and the run takes no wall-clock time. Run with `just run`.
 */
import type { Clock, RateLimitAlgorithm } from "../../../src/index.js";
import { createRuntime } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`rate-limit recipe: ${message}`);
}
const line = (what: string, result: string) => console.log(`${what.padEnd(70)} → ${result}`);

/** Time moves only when the recipe says so. */
class ManualClock implements Clock {
  #now = Date.UTC(2026, 0, 1, 12, 0, 0, 0);
  now = () => this.#now;
  random = Math.random;
  set(ms: number) {
    this.#now = ms;
  }
}

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);
const prefix = `recipes:rate-limit:${process.pid}`;
const clock = new ManualClock();
const runtime = createRuntime({
  modules: engines.modules({
    documents: { accounts: { table: runTable("recipe_rate_limit_accounts") } },
    caches: { limits: { namespace: `${prefix}:limits` } },
  }),
  clock,
});
const ALGORITHMS: RateLimitAlgorithm[] = ["fixed", "sliding", "gcra"];
try {
  await runtime.start();
  const limits = runtime.cache("limits");
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 0);

  console.log("\n── 60 concurrent requests, limit 10 per second ──");
  for (const algorithm of ALGORITHMS) {
    clock.set(t0);
    const results = await Promise.all(
      Array.from({ length: 60 }, () => limits.rateLimit(`burst:${algorithm}`, { limit: 10, window: "1s", algorithm })),
    );
    const allowed = results.filter((r) => r.allowed).length;
    const denied = results.find((r) => !r.allowed)!;
    line(
      `${algorithm}: 60 × rateLimit("burst:${algorithm}")`,
      `${allowed} allowed, retryAfter ${denied.retryAfter} ms`,
    );
    check(allowed === 10, `${algorithm} let ${allowed} through`);
    clock.set(t0 + denied.retryAfter - 1);
    const early = await limits.rateLimit(`burst:${algorithm}`, { limit: 10, window: "1s", algorithm, peek: true });
    clock.set(t0 + denied.retryAfter);
    const onTime = await limits.rateLimit(`burst:${algorithm}`, { limit: 10, window: "1s", algorithm });
    line(`  1 ms before retryAfter (peek) / at retryAfter`, `${early.allowed} / ${onTime.allowed}`);
    check(!early.allowed && onTime.allowed, `${algorithm}: retryAfter is not exact`);
  }

  console.log("\n── the window edge: 10 requests at 0.990 s, then 10 more at 1.000 s ──");
  const edge: Record<string, number> = {};
  for (const algorithm of ALGORITHMS) {
    const key = `edge:${algorithm}`;
    let passed = 0;
    clock.set(t0 + 990);
    for (let i = 0; i < 10; i++)
      if ((await limits.rateLimit(key, { limit: 10, window: "1s", algorithm })).allowed) passed++;
    clock.set(t0 + 1000);
    for (let i = 0; i < 10; i++)
      if ((await limits.rateLimit(key, { limit: 10, window: "1s", algorithm })).allowed) passed++;
    edge[algorithm] = passed;
    line(`${algorithm}: allowed within those 10 ms`, `${passed} of 20`);
  }
  check(edge.fixed === 20 && edge.sliding === 10 && edge.gcra === 10, "the edge behaviour is not as documented");

  console.log("\n── cost and peek ──");
  clock.set(t0);
  const heavy = await limits.rateLimit("export:acme", { limit: 100, window: "1m", algorithm: "gcra", cost: 60 });
  const peek = await limits.rateLimit("export:acme", {
    limit: 100,
    window: "1m",
    algorithm: "gcra",
    cost: 60,
    peek: true,
  });
  const after = await limits.rateLimit("export:acme", { limit: 100, window: "1m", algorithm: "gcra", peek: true });
  line(
    `rateLimit("export:acme", { cost: 60 }) then peek cost 60`,
    `${heavy.allowed}, remaining ${heavy.remaining}; peek ${peek.allowed}, retryAfter ${peek.retryAfter} ms`,
  );
  check(heavy.allowed && !peek.allowed && after.remaining === 40, "cost or peek misbehaved (peek must not count)");
  console.log(
    `\nstats: exact budgets on ${ALGORITHMS.length} algorithms; edge burst fixed=${edge.fixed} sliding=${edge.sliding} gcra=${edge.gcra}`,
  );
} finally {
  await runtime.stop();
  await engines.cleanUp();
}

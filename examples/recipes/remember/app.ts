/**
 * remember (getOrSet): compute a value once, cache it, and keep serving it when the source misbehaves — for values
 * that are not documents (an exchange rate from an HTTP API here). Shows single-flight, a zod schema guarding what
 * comes back from the cache, grace (stale-if-error), a soft timeout, and negative caching. Run with `just run`.
 */
import { z } from "zod";
import { createRuntime, silentLogger } from "../../../src/index.js";
import { cacheEngine } from "../shared/cache-engine.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`remember recipe: ${message}`);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const engine = cacheEngine("remember");
console.log(`engine: ${engine.label} (no Postgres: a runtime of cache modules only)`);
const runtime = createRuntime({ modules: [engine.module({ rates: { ttl: "1m" } })], logger: silentLogger });
await runtime.start();
try {
  const rates = runtime.cache("rates");
  const Rate = z.object({ pair: z.string(), rate: z.number().positive() });
  let upstreamCalls = 0;
  let upstreamDown = false;
  let upstreamDelayMs = 20;
  const fetchRate = async (pair: string) => {
    upstreamCalls++;
    await sleep(upstreamDelayMs);
    if (upstreamDown) throw new Error("upstream 503");
    return { pair, rate: 1.08 + upstreamCalls / 1000 };
  };
  const stats = () => {
    const s = rates.stats();
    return `upstream calls=${upstreamCalls} hits=${s.hits} misses=${s.misses} joined=${s.joined} stale=${s.staleServed} schemaMisses=${s.schemaMisses}`;
  };

  // 1. 100 concurrent requests for a cold key: one upstream call (single-flight), 99 join it.
  const all = await Promise.all(
    Array.from({ length: 100 }, () => rates.remember("EURUSD", () => fetchRate("EURUSD"), { schema: Rate })),
  );
  console.log(
    `100 concurrent remember("EURUSD") → ${new Set(all.map((r) => r.rate)).size} distinct value   ${stats()}`,
  );
  check(upstreamCalls === 1, "single-flight: one upstream call");

  // 2. A value in the cache that no longer matches the schema (an older deploy wrote it) is a miss, and replaced.
  await rates.set("GBPUSD", { pair: "GBPUSD", rate: "1.27" });
  const fixed = await rates.remember("GBPUSD", () => fetchRate("GBPUSD"), { schema: Rate });
  console.log(`remember("GBPUSD") over a stale-shaped value → rate=${fixed.rate}   ${stats()}`);
  check(rates.stats().schemaMisses === 1, "the bad cached value counted as a schema miss");

  // 3. Grace: fresh for 200 ms, kept 10 s more; when upstream is down the stale value answers.
  const graceful = { ttl: 200, grace: "10s", schema: Rate } as const;
  await rates.remember("USDJPY", () => fetchRate("USDJPY"), graceful);
  await sleep(250);
  upstreamDown = true;
  const stale = await rates.remember("USDJPY", () => fetchRate("USDJPY"), graceful);
  console.log(`upstream down, entry stale: remember("USDJPY") → rate=${stale.rate} (stale-if-error)   ${stats()}`);
  check(rates.stats().staleServed === 1, "grace served the stale value");

  // 4. Soft timeout: upstream back but slow; the caller gets the stale value after 30 ms, the refresh lands later.
  upstreamDown = false;
  upstreamDelayMs = 300;
  const started = performance.now();
  const quick = await rates.remember("USDJPY", () => fetchRate("USDJPY"), { ...graceful, timeout: { soft: 30 } });
  const waited = performance.now() - started;
  console.log(
    `slow upstream, timeout.soft 30ms → rate=${quick.rate} after ~${Math.round(waited / 10) * 10}ms   ${stats()}`,
  );
  await sleep(400);
  const refreshed = await rates.get<{ rate: number }>("USDJPY");
  console.log(`…the background load finished: cached rate=${refreshed?.rate}`);
  check(refreshed !== undefined && refreshed.rate !== quick.rate, "the soft-timed-out load refreshed the cache");

  // 5. Negative caching: an unknown pair is remembered as undefined for 5 s (no upstream call the second time).
  upstreamDelayMs = 1;
  const before = upstreamCalls;
  const lookup = () =>
    rates.remember(
      "XXXYYY",
      async () => {
        await fetchRate("XXXYYY"); // an upstream that knows no such pair
        return undefined;
      },
      { notFoundTtl: "5s" },
    );
  const [first, second] = [await lookup(), await lookup()];
  console.log(`unknown pair twice with notFoundTtl → ${first}, ${second}; upstream calls +${upstreamCalls - before}`);
  check(upstreamCalls - before === 1, "the undefined was cached");
  await rates.clear();
} finally {
  await runtime.stop();
  await engine.cleanup();
}

/**
 * Locks with fencing tokens: `cache.lock(key, { ttl })` on the routed cache (Redis, or the in-process store). A
 * worker whose lease runs out while it is paused is told (`onLost`, `lock.signal`), another worker takes the lock
 * with a greater fencing token, and the protected resource refuses the paused worker's late write because its token
 * is older. Then 20 concurrent `withLock` increments of a read-modify-write counter end exact. Run with `just run`.
 */
import { createRuntime, LockLostError } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`locks recipe: ${message}`);
}
const line = (what: string, result: string) => console.log(`${what.padEnd(66)} → ${result}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The resource a lock protects: it remembers the highest fencing token it saw and refuses older ones. */
class FencedStorage {
  highest = 0;
  readonly writes: string[] = [];
  refused = 0;
  write(token: number, value: string): boolean {
    if (token < this.highest) {
      this.refused++;
      return false;
    }
    this.highest = token;
    this.writes.push(value);
    return true;
  }
}

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);
const prefix = `recipes:locks:${process.pid}`;
const runtime = createRuntime({
  modules: engines.modules({
    documents: { reports: { table: runTable("recipe_locks_reports") } },
    caches: { jobs: { namespace: `${prefix}:jobs` } },
  }),
});
try {
  await runtime.start();
  const jobs = runtime.cache("jobs");
  const storage = new FencedStorage();

  console.log("\n── a paused holder loses its lease, and its late write is refused ──");
  let lost: LockLostError | undefined;
  const a = jobs.lock("nightly-report", { ttl: 300, onLost: (error) => (lost = error) });
  check(await a.acquire(), "A could not take a free lock");
  const tokenA = a.fencingToken!;
  line(`A: jobs.lock("nightly-report", { ttl: 300 }).acquire()`, `held, fencing token ${tokenA}`);
  await sleep(450); // A "pauses" (a GC pause, a slow call) past its ttl
  line("A pauses 450 ms: onLost", lost ? `${lost.code}: ${lost.message}` : "not called");
  check(lost instanceof LockLostError && a.signal?.aborted === true, "A was not told its lease ran out");
  const b = jobs.lock("nightly-report", { ttl: "30s" });
  check(await b.acquire({ wait: "5s" }), "B could not take the expired lock");
  line('B: acquire({ wait: "5s" })', `held, fencing token ${b.fencingToken} (> ${tokenA})`);
  check(b.fencingToken! > tokenA, "B's token is not greater than A's");
  line("B writes the report with its token", storage.write(b.fencingToken!, "report by B") ? "accepted" : "refused");
  line("A wakes up and writes with its old token", storage.write(tokenA, "report by A") ? "accepted" : "refused");
  check(storage.refused === 1 && storage.writes.length === 1, "the late writer was not refused");
  line("A: release()", `${await a.release()} (it no longer owns the lock; B's lock is untouched)`);
  check(await b.isHeld(), "A's release freed B's lock");
  await b.release();

  console.log("\n── withLock: 20 concurrent read-modify-write increments ──");
  let counter = 0;
  const tokens: number[] = [];
  await Promise.all(
    Array.from({ length: 20 }, () =>
      jobs.withLock(
        "counter",
        async (lock) => {
          const read = counter;
          await sleep(1);
          counter = read + 1;
          tokens.push(lock.fencingToken!);
        },
        { ttl: "10s", wait: "30s" },
      ),
    ),
  );
  const increasing = tokens.every((t, i) => i === 0 || t > tokens[i - 1]!);
  line(
    '20 × jobs.withLock("counter", read → sleep 1 ms → write)',
    `counter = ${counter}, tokens increasing: ${increasing}`,
  );
  check(counter === 20 && increasing, "withLock let two holders in");
  console.log(
    `\nstats: tokens issued ${tokens.length + 2}, late writes refused ${storage.refused}, lost leases reported 1`,
  );
} finally {
  await runtime.stop();
  await engines.cleanUp();
}

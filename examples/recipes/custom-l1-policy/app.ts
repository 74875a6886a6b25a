/**
 * Custom L1 policy: `createL1Store` is the in-process store the document L1 uses, available on its own (LRU or
 * W-TinyLFU, with stats), and `cache.l1.policy` also takes a factory, so a document's L1 can be any store you write.
 * Part 1 drives the built-in stores directly; part 2 plugs two factories into a runtime and shows it calls them.
 * Run with `just run` (or `npx tsx examples/recipes/custom-l1-policy/app.ts` from the repository root).
 */
import { z } from "zod";
import type { L1PolicyName, L1Stats, L1Store, L1StoreFactory, L1StoreOptions } from "../../../src/index.js";
import { ConfigurationError, createL1Store, createRuntime, defineDocument } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`custom-l1-policy recipe: ${message}`);
}

const brief = (s: L1Stats) =>
  `size=${s.size}/${s.capacity} hits=${s.hits} misses=${s.misses} evictions=${s.evictions} ` +
  `expirations=${s.expirations} invalidations=${s.invalidations} hitRate=${s.hitRate.toFixed(2)}`;

// ───────────────────────── Part 1: createL1Store on its own ─────────────────────────

console.log("── part 1: createL1Store, standalone ──");
{
  // A hand-moved clock makes expiry deterministic; the default is performance.now.
  let t = 0;
  const store = createL1Store<string>({ policy: "lru", capacity: 3, ttl: "10s", now: () => t });
  const step = (what: string) => console.log(`lru  ${what.padEnd(60)} ${brief(store.stats())}`);
  store.set("a", "A");
  store.set("b", "B");
  store.set("c", "C");
  step(`set a, b, c (capacity 3, ttl "10s")`);
  check(store.get("a") === "A", "a is missing");
  step(`get a → A (hit: a is now the most recently used)`);
  store.set("d", "D");
  const b = store.get("b");
  step(`set d → evicts b, the least recently used; get b → ${b}`);
  check(b === undefined && store.stats().evictions === 1, "LRU did not evict the least recently used key");
  store.set("a", "A2", 2_000);
  t += 2_001;
  const a = store.get("a");
  step(`set a, ttlMs 2000 (< 10s); 2001 ms later get a → ${a}`);
  check(a === undefined && store.stats().expirations === 1, "a per-entry ttl did not shorten the lifetime");
  t += 8_000;
  const c = store.get("c");
  step(`8 s later (c is 10.001 s old) get c → ${c}`);
  check(c === undefined && store.stats().expirations === 2, "the store ttl did not expire c");
  const removed = [store.invalidate("d"), store.invalidate("d")];
  step(`invalidate d twice → ${removed.join(", ")}`);
  check(removed[0] === true && removed[1] === false, "invalidate did not report whether it removed");
  store.set("e", "E");
  store.clear();
  step(`set e; clear() → empty, counters kept`);
  check(store.size === 0 && store.stats().hits === 1, "clear() did not empty the store or dropped the counters");
}

{
  // The same skewed workload on both built-in policies: a hot set read over and over, then a one-off scan.
  const CAPACITY = 64;
  const HOT = 16;
  const SCAN = 4 * CAPACITY;
  const survivors: Record<string, number> = {};
  for (const policy of ["lru", "tinylfu"] as const satisfies ReadonlyArray<L1PolicyName>) {
    const store = createL1Store<number>({ policy, capacity: CAPACITY });
    const read = (key: string) => {
      if (store.get(key) === undefined) store.set(key, key.length); // a miss loads and fills, like a read-through
    };
    for (let round = 0; round < 5; round++) for (let i = 0; i < HOT; i++) read(`hot:${i}`);
    for (let i = 0; i < SCAN; i++) read(`scan:${i}`);
    const before = store.stats().hits;
    for (let i = 0; i < HOT; i++) read(`hot:${i}`);
    survivors[policy] = store.stats().hits - before;
    console.log(
      `${policy.padEnd(7)} ${HOT} hot keys ×5, scan of ${SCAN}, hot again → ${survivors[policy]}/${HOT} hits`.padEnd(
        66,
      ) + brief(store.stats()),
    );
  }
  check(survivors.lru === 0, `lru kept ${survivors.lru} hot keys through a scan 4× its capacity`);
  check(survivors.tinylfu === HOT, `tinylfu lost ${HOT - (survivors.tinylfu ?? 0)} hot keys to a scan`);
}

{
  let error: unknown;
  try {
    createL1Store({ policy: "tinylfu", capacity: 1 });
  } catch (caught) {
    error = caught;
  }
  check(error instanceof ConfigurationError && error.path === "capacity", "tinylfu accepted capacity 1");
  console.log(`createL1Store({ policy: "tinylfu", capacity: 1 }) → ConfigurationError: ${(error as Error).message}`);
}

// ───────────────────────── Part 2: your own policy in cache.l1.policy ─────────────────────────

/** A factory that wraps the built-in LRU and counts what the runtime asks of it. */
const calls = { factory: 0, get: 0, set: 0, invalidate: 0, clear: 0 };
let factoryOptions: L1StoreOptions | undefined;
let lastSetTtlMs: number | undefined;
const countingLru: L1StoreFactory = (options) => {
  calls.factory++;
  factoryOptions = options;
  const inner = createL1Store({ policy: "lru", capacity: options.capacity, ttl: options.ttlMs, now: options.now });
  return {
    get: (key) => {
      calls.get++;
      return inner.get(key);
    },
    set: (key, value, ttlMs) => {
      calls.set++;
      lastSetTtlMs = ttlMs;
      inner.set(key, value, ttlMs);
    },
    invalidate: (key) => {
      calls.invalidate++;
      return inner.invalidate(key);
    },
    clear: () => {
      calls.clear++;
      inner.clear();
    },
    get size() {
      return inner.size;
    },
    get capacity() {
      return inner.capacity;
    },
    stats: () => inner.stats(),
  };
};

/**
 * A toy policy written from scratch: it keeps only the most recently inserted entry. It honours the contract that
 * matters for correctness — an entry never outlives `ttlMs` (the spec's l1.ttl) nor the `ttlMs` of its `set` — and
 * keeps the counters `stats()` reports. It ignores `capacity`: its own capacity is 1.
 */
const lastInsertedOnly: L1StoreFactory = (options) => {
  const now = options.now ?? (() => performance.now());
  const maxTtlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
  let slot: { key: string; value: unknown; expiresAt: number } | undefined;
  const n = { hits: 0, misses: 0, evictions: 0, expirations: 0, invalidations: 0 };
  const store: L1Store = {
    capacity: 1,
    get size() {
      return slot === undefined ? 0 : 1;
    },
    get(key) {
      if (slot?.key === key) {
        if (now() < slot.expiresAt) {
          n.hits++;
          return slot.value;
        }
        slot = undefined;
        n.expirations++;
      }
      n.misses++;
      return undefined;
    },
    set(key, value, ttlMs) {
      const ttl = Math.min(maxTtlMs, ttlMs ?? Number.POSITIVE_INFINITY);
      if (!(ttl > 0)) {
        if (slot?.key === key) slot = undefined;
        return;
      }
      if (slot !== undefined && slot.key !== key) n.evictions++;
      slot = { key, value, expiresAt: now() + ttl };
    },
    invalidate(key) {
      if (slot?.key !== key) return false;
      slot = undefined;
      n.invalidations++;
      return true;
    },
    clear() {
      slot = undefined;
    },
    stats() {
      const lookups = n.hits + n.misses;
      return { size: store.size, capacity: 1, ...n, hitRate: lookups === 0 ? 0 : n.hits / lookups };
    },
  };
  return store;
};

const fields = z.object({ name: z.string(), price: z.number().int() });
export const counted = defineDocument({
  name: "counted_products",
  fields,
  cache: { ttl: "5m", l1: { ttl: "30s", capacity: 8, policy: countingLru } },
});
export const single = defineDocument({
  name: "single_products",
  fields,
  cache: { ttl: "5m", l1: { ttl: "30s", policy: lastInsertedOnly } },
});
export const broken = defineDocument({
  name: "broken_products",
  fields,
  cache: { ttl: "5m", l1: { ttl: "30s", policy: (() => ({})) as unknown as L1StoreFactory } },
});

const engines = await pickEngines();
console.log(`\n── part 2: cache.l1.policy = your factory ──\nengines: ${engines.postgres}; ${engines.redis}`);
const names = ["counted_products", "single_products", "broken_products"];
const runtime = createRuntime({
  modules: engines.modules({
    documents: Object.fromEntries(names.map((name) => [name, { table: runTable(`recipe_custom_l1_${name}`) }])),
    caches: Object.fromEntries(names.map((name) => [name, { namespace: `recipes:custom-l1:${process.pid}:${name}` }])),
  }),
});
try {
  await runtime.start();
  const ctx = runtime.context();

  console.log(`\n${counted.name}: l1 { ttl: "30s", capacity: 8, policy: countingLru }`);
  check(calls.factory === 0, "the factory ran before the document was used");
  const docs = ctx.document.command(counted);
  const query = ctx.document.query(counted);
  const o = factoryOptions;
  console.log(
    `first use → factory called ${calls.factory}× with { capacity: ${o?.capacity}, ttlMs: ${o?.ttlMs}, now: ${typeof o?.now} }`,
  );
  check(calls.factory === 1 && o?.capacity === 8 && o.ttlMs === 30_000, "the factory did not get the L1 options");
  const step = (what: string) => {
    const { l1, l2, source } = query.stats();
    const c = `get=${calls.get} set=${calls.set} invalidate=${calls.invalidate}`;
    console.log(
      `${what.padEnd(62)} store calls: ${c.padEnd(27)} L1 hits=${l1?.hits} misses=${l1?.misses}  L2 hits=${l2.hits} misses=${l2.misses}  Postgres reads=${source.fetches}`,
    );
  };

  const created = await docs.create({ name: "Widget", price: 10 });
  step(`create → invalidate(id) (nothing held yet)`);
  check(calls.invalidate === 1, "a local create did not invalidate through the custom store");
  await query.get(created.id);
  await runtime.settled(); // L1 takes the document once its L2 fill has landed, right behind the read
  step(`get #1 → store.get misses; L2 miss, Postgres; store.set`);
  check(calls.get === 1 && calls.set === 1, "the first read did not go through the custom store");
  console.log(
    `  the runtime's set passed ttlMs ≈ ${Math.round((lastSetTtlMs ?? 0) / 1000)} s (the L2 freshness left); the store caps it at l1.ttl 30 s`,
  );
  for (let i = 0; i < 10; i++) await query.get(created.id);
  step(`get ×10 → store.get hits; no L2, no SQL`);
  check(query.stats().l1?.hits === 10 && query.stats().l2.hits === 0, "repeated reads were not custom-L1 hits");
  const updated = await docs.update(created.id, created.rev, { price: 12 });
  step(`update → written through to L2, then invalidate(id)`);
  check(calls.invalidate === 2 && query.stats().l1?.size === 0, "the write did not invalidate the custom L1");
  const fresh = await query.get(created.id);
  step(`get → price ${fresh.price} (rev ${fresh.rev}): store.get misses; L2 hit; store.set`);
  check(fresh.price === 12 && fresh.rev === updated.rev, `stale read after an update: ${fresh.price}`);
  const reported = query.stats().l1;
  check(
    JSON.stringify(runtime.stats().documents[counted.name]?.l1) === JSON.stringify(reported),
    "runtime.stats() does not report the custom store's stats()",
  );
  console.log(`query.stats().l1 is the store's own stats(): ${brief(reported!)}`);

  console.log(`\n${single.name}: l1 { ttl: "30s", policy: lastInsertedOnly }`);
  const sDocs = ctx.document.command(single);
  const sQuery = ctx.document.query(single);
  const sStep = (what: string) => {
    const { l1, l2, source } = sQuery.stats();
    console.log(
      `${what.padEnd(62)} L1 size=${l1?.size}/${l1?.capacity} hits=${l1?.hits} misses=${l1?.misses} evictions=${l1?.evictions}  L2 hits=${l2.hits} misses=${l2.misses}  Postgres reads=${source.fetches}`,
    );
  };
  const x = await sDocs.create({ name: "X", price: 1 });
  const y = await sDocs.create({ name: "Y", price: 2 });
  sStep(`create X and Y`);
  await sQuery.get(x.id);
  await runtime.settled();
  sStep(`get X → L1 miss, L2 miss, Postgres; L1 now holds X`);
  await sQuery.get(x.id);
  sStep(`get X → L1 hit`);
  check(sQuery.stats().l1?.hits === 1, "the custom store did not serve X");
  await sQuery.get(y.id);
  await runtime.settled();
  sStep(`get Y → L1 miss, Postgres; Y replaces X (an eviction)`);
  check(sQuery.stats().l1?.evictions === 1, "Y did not replace X");
  const l2Before = sQuery.stats().l2.hits;
  await sQuery.get(x.id);
  sStep(`get X → L1 miss, L2 hit; X replaces Y`);
  check(sQuery.stats().l2.hits === l2Before + 1 && sQuery.stats().l1?.evictions === 2, "X did not come back from L2");

  console.log(`\n${broken.name}: l1 { policy: () => ({}) }`);
  let error: unknown;
  try {
    ctx.document.query(broken);
  } catch (caught) {
    error = caught;
  }
  check(error instanceof ConfigurationError && error.path === "policy", "a factory returning {} was accepted");
  console.log(`first use → ConfigurationError: ${(error as Error).message}`);
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

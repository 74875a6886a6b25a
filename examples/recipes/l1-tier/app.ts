/**
 * L1 tier: an in-process cache in front of L2, per document, with a choice of eviction policy (LRU or W-TinyLFU).
 * Repeated reads never leave the process; a local write is visible at once; under W-TinyLFU a scan of one-off ids
 * does not push the hot set out. Run with `just run` (or `npx tsx examples/recipes/l1-tier/app.ts` from the root).
 */
import { z } from "zod";
import type { DocumentQuery, DocumentSpec, L1PolicyName } from "../../../src/index.js";
import { createRuntime, defineDocument } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

/** Small on purpose, so that a scan overflows it. */
const CAPACITY = 16;
const HOT = 6;
const HOT_READS = 5;
const SCAN = 3 * CAPACITY;

const fields = z.object({ name: z.string(), price: z.number().int() });

/** The same document under each policy; only `cache.l1.policy` differs. */
function productsWith(policy: L1PolicyName) {
  return defineDocument({
    name: `l1_${policy}_products`,
    fields,
    cache: {
      ttl: "5m", // L2 lifetime
      l1: {
        ttl: "30s", // L1 lifetime: with push off, how stale another replica's write can look here
        capacity: CAPACITY, // entries per document per process
        policy, // "lru" (default) or "tinylfu"
      },
    },
  });
}

const lru = productsWith("lru");
const tinylfu = productsWith("tinylfu");

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);

const runtime = createRuntime({
  modules: engines.modules({
    documents: {
      l1_lru_products: { table: runTable("recipe_l1_tier_lru_products") },
      l1_tinylfu_products: { table: runTable("recipe_l1_tier_tinylfu_products") },
    },
    caches: {
      l1_lru_products: { namespace: `recipes:l1-tier:${process.pid}:lru` },
      l1_tinylfu_products: { namespace: `recipes:l1-tier:${process.pid}:tinylfu` },
    },
  }),
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`l1-tier recipe: ${message}`);
}

try {
  await runtime.start();
  const kept: Record<string, number> = {};
  for (const spec of [lru, tinylfu]) {
    const policy = spec.cache?.l1?.policy as L1PolicyName;
    kept[policy] = await walkThrough(spec, policy);
  }

  console.log(`\nscan resistance: hot set kept in L1 — lru ${kept.lru}/${HOT}, tinylfu ${kept.tinylfu}/${HOT}`);
  check(kept.tinylfu === HOT, `tinylfu lost ${HOT - (kept.tinylfu ?? 0)} hot entries to a scan`);
  check(kept.lru === 0, `lru kept ${kept.lru} hot entries through a scan ${SCAN / CAPACITY}x its capacity`);

  for (const spec of [lru, tinylfu]) {
    const l1 = runtime.context().document.query(spec).stats().l1;
    check(l1 !== undefined, `${spec.name} has no L1`);
    check(
      JSON.stringify(runtime.stats().documents[spec.name]?.l1) === JSON.stringify(l1),
      "runtime.stats() and query.stats() disagree",
    );
    console.log(`\nL1Stats of ${spec.name}:`, JSON.stringify(l1, null, 2));
  }
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

/** Every step on one policy; returns how many hot entries survived the scan. */
async function walkThrough(spec: DocumentSpec<typeof fields>, policy: L1PolicyName): Promise<number> {
  console.log(`\n── policy: ${policy} (l1.capacity ${CAPACITY}, l1.ttl 30s; L2 ttl 5m) ──`);
  const ctx = runtime.context();
  const docs = ctx.document.command(spec);
  const query: DocumentQuery<typeof spec> = ctx.document.query(spec);
  const counters = () => {
    const { l1, l2, source } = query.stats();
    return { l1Hits: l1?.hits ?? 0, l1Misses: l1?.misses ?? 0, l2: l2.hits + l2.misses, pg: source.fetches };
  };
  const step = (what: string) => {
    const { l1, l2, source } = query.stats();
    console.log(
      `${what.padEnd(66)} L1 hits=${l1?.hits} misses=${l1?.misses}  L2 hits=${l2.hits} misses=${l2.misses}  Postgres reads=${source.fetches}`,
    );
  };

  const created = await docs.create({ name: "Widget", price: 10 });
  step(`create → ${created.name} at ${created.price} (rev ${created.rev})`);

  const first = await query.get(created.id);
  await runtime.settled(); // L1 takes the document once its L2 fill has landed, right behind the read
  step(`get #1 → price ${first.price} (L1 miss, L2 miss: Postgres, fills L2 and L1)`);
  check(query.peek(created.id) === first, "the first read did not fill L1");

  const before = counters();
  for (let i = 0; i < 100; i++) {
    check((await query.get(created.id)) === first, "an L1 hit returned another object");
  }
  const after = counters();
  step(`get ×100 → the same frozen object (L1 hits +${after.l1Hits - before.l1Hits}, L2 lookups +0)`);
  check(after.l1Hits - before.l1Hits === 100, "repeated reads were not all L1 hits");
  check(after.l2 === before.l2, `repeated reads made ${after.l2 - before.l2} L2 lookups`);
  check(after.pg === before.pg, "repeated reads went to Postgres");

  const peeked = query.peek(created.id);
  const unknown = await docs.create({ name: "Never read", price: 1 });
  const notCached = query.peek(unknown.id);
  step(`peek → price ${peeked?.price} (sync); peek(never-read id) → ${notCached === undefined ? "undefined" : "?"}`);
  check(peeked === first, "peek did not return the L1 entry");
  check(notCached === undefined, "peek returned a document that was never read");

  const updated = await docs.update(created.id, created.rev, { price: 12 });
  const afterWrite = query.peek(created.id);
  step(`update → price ${updated.price} (rev ${updated.rev}); peek → ${afterWrite === undefined ? "undefined" : "?"}`);
  check(afterWrite === undefined, "the local write left the old version in L1");

  const l2Before = query.stats().l2.hits;
  const fresh = await query.get(created.id);
  step(`get #102 → price ${fresh.price} (L2 hit on the written-through rev ${fresh.rev})`);
  check(fresh.price === 12 && fresh.rev === 2, `stale read after a local write: price ${fresh.price}`);
  check(query.stats().l2.hits === l2Before + 1, "the read after the write was not an L2 hit");
  check(query.peek(created.id) === fresh, "the new version did not fill L1");

  // A hot set, read over and over; then a one-off scan (an export, a crawler) of 3× the capacity.
  const hot = await Promise.all(Array.from({ length: HOT }, (_, i) => docs.create({ name: `hot-${i}`, price: i })));
  for (let round = 0; round < HOT_READS; round++) for (const doc of hot) await query.get(doc.id);
  step(`hot set: ${HOT} ids read ${HOT_READS} times each`);
  const evictionsBefore = query.stats().l1?.evictions ?? 0;
  for (let i = 0; i < SCAN; i++) {
    const once = await docs.create({ name: `scan-${i}`, price: i });
    await query.get(once.id);
  }
  const evicted = (query.stats().l1?.evictions ?? 0) - evictionsBefore;
  step(`scan: ${SCAN} one-off ids read once each (${evicted} evictions)`);

  const reread = counters();
  for (const doc of hot) await query.get(doc.id);
  const l2Lookups = counters().l2 - reread.l2;
  const survivors = HOT - l2Lookups;
  step(`hot set again → ${survivors}/${HOT} L1 hits, ${l2Lookups} back to L2`);
  return survivors;
}

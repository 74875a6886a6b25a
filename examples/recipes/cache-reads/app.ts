/**
 * Cache reads: declare a document once, wire Postgres and a cache, and every read is served from the nearest correct
 * tier while every write keeps the tiers correct. Run with `just run` (or `npm start` from the repository root).
 */
import { z } from "zod";
import { createRuntime, defineDocument } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

export const products = defineDocument({
  name: "products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m" },
});

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);

const runtime = createRuntime({
  modules: engines.modules({
    documents: { products: { table: runTable("recipe_cache_reads_products") } },
    caches: { products: { namespace: `recipes:cache-reads:${process.pid}` } },
  }),
});
try {
  await runtime.start();
  const ctx = runtime.context();
  const docs = ctx.document.command(products);
  const query = ctx.document.query(products);
  const step = (what: string) => {
    const { l2, source } = query.stats();
    console.log(`${what.padEnd(58)} L2 hits=${l2.hits} misses=${l2.misses}  Postgres reads=${source.fetches}`);
  };

  const created = await docs.create({ name: "Widget", price: 10 });
  step(`create → ${created.name} at ${created.price} (rev ${created.rev})`);

  const first = await query.get(created.id);
  await runtime.settled(); // a miss answers first; its cache fill lands right behind it
  step(`get #1 → price ${first.price} (miss: Postgres, then fills the cache)`);

  const second = await query.get(created.id);
  step(`get #2 → price ${second.price} (hit: served by the cache)`);

  const updated = await docs.update(created.id, created.rev, { price: 12 });
  step(`update → price ${updated.price} (rev ${updated.rev}, written through)`);

  const fresh = await query.get(created.id);
  step(`get #3 → price ${fresh.price} (never the stale ${first.price})`);
  if (fresh.price !== 12) throw new Error(`stale read: expected 12, got ${fresh.price}`);

  await docs.delete(created.id, updated.rev);
  const gone = await query.find(created.id);
  step(`delete → find returns ${gone === undefined ? "undefined" : "a document"}`);
  if (gone !== undefined) throw new Error("a deleted document was served");

  console.log("\nstats:", JSON.stringify(query.stats(), null, 2));
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

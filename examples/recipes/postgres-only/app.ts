/**
 * A deployment with Postgres and no Redis: `postgresCacheModule` keeps the cache in an UNLOGGED table of the same
 * database, shared by every replica. Documents use it as their L2 (a second replica reads the first one's fill from
 * the cache table, not the products table, and a write goes through fenced), and key/value, locks and rate limits
 * work on it too. Run with `just run` (DATABASE_URL, a local server, or one embedded PGlite shared by both modules).
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { z } from "zod";
import type { RuntimeModule } from "../../../src/index.js";
import {
  createRuntime,
  defineDocument,
  postgresCacheModule,
  postgresModule,
  silentLogger,
} from "../../../src/index.js";
import { dropTables, postgresAnswers, redact, runTable } from "../shared/engines.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`postgres-only recipe: ${message}`);
}
const line = (what: string, result: string) => console.log(`${what.padEnd(66)} → ${result}`);

const products = defineDocument({
  name: "products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m" }, // no L1: replicas have no push invalidation without Redis
});

const LOCAL = "postgres://postgres@127.0.0.1:5432/postgres";
const url =
  process.env.STRATA_ENGINES === "embedded"
    ? undefined
    : (process.env.DATABASE_URL ?? ((await postgresAnswers(LOCAL)) ? LOCAL : undefined));
const pglite = url === undefined ? new PGlite() : undefined;
console.log(`engines: ${url ? `Postgres at ${redact(url)}` : "PGlite (embedded Postgres, in memory)"}; no Redis`);
const productsTable = runTable("recipe_pg_only_products");
const cacheTable = runTable("recipe_pg_only_cache");
const source = url ? { url } : { pglite: pglite! };

let documentReads = 0;
const replica = (name: string, count: boolean): ReturnType<typeof createRuntime> =>
  createRuntime({
    modules: [
      postgresModule({
        ...source,
        documents: { products: { table: productsTable } },
        ...(count
          ? {
              onQuery: (sql: string) =>
                void (sql.includes(productsTable) && sql.startsWith("SELECT") && documentReads++),
            }
          : {}),
      }),
      postgresCacheModule({ ...source, caches: { products: { table: cacheTable, namespace: `pgonly:${name}` } } }),
    ] as RuntimeModule[],
    logger: silentLogger,
  });
// Both replicas share one cache namespace: that is what makes the cache shared.
const a = replica("shared", false);
const b = replica("shared", true);
try {
  await a.start();
  await b.start();
  console.log("\n── documents: the cache table is the L2 ──");
  const created = await a.context().document.command(products).create({ name: "lamp", price: 30 });
  await a.context().document.query(products).get(created.id);
  await a.settled(); // a miss answers first; its fill lands right behind it
  line("A: create, then get (fills the cache table)", `${created.name}, rev ${created.rev}`);
  const fromB = await b.context().document.query(products).get(created.id);
  line("B: get", `${fromB.name} — product-table reads by B: ${documentReads}`);
  check(documentReads === 0, "B read the products table instead of the cache table");
  const updated = await a.context().document.command(products).update(created.id, created.rev, { price: 35 });
  const afterUpdate = await b.context().document.query(products).get(created.id);
  line("A: update price 35; B: get", `price ${afterUpdate.price}, rev ${afterUpdate.rev} (written through)`);
  check(afterUpdate.rev === updated.rev && documentReads === 0, "B did not see the written-through version");

  console.log("\n── key/value, locks and rate limits on the same table ──");
  const cache = b.cache("products");
  await a.cache("products").set("banner", { text: "sale" }, { ttl: "1m" });
  line('A: cache.set("banner"); B: cache.get("banner")', JSON.stringify(await cache.get("banner")));
  check((await cache.get<{ text: string }>("banner"))?.text === "sale", "B did not see A's key/value entry");
  const lockA = a.cache("products").lock("reindex", { ttl: "30s" });
  const lockB = cache.lock("reindex", { ttl: "30s" });
  line('A: lock("reindex").acquire(); B: the same', `${await lockA.acquire()} / ${await lockB.acquire()}`);
  check(lockA.fencingToken !== undefined && lockB.fencingToken === undefined, "both replicas got the lock");
  await lockA.release();
  const verdicts = [];
  for (const r of [a, b, a, b])
    verdicts.push((await r.cache("products").rateLimit("api:acme", { limit: 3, window: "1m" })).allowed);
  line('A, B, A, B: rateLimit("api:acme", { limit: 3 })', verdicts.join(", "));
  check(verdicts.join() === "true,true,true,false", "the replicas did not share one budget");
  const countSql = `SELECT count(*)::int AS n FROM ${cacheTable}`;
  let rows: number;
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    rows = (await client.query<{ n: number }>(countSql)).rows[0]!.n;
    await client.end();
  } else rows = (await pglite!.query<{ n: number }>(countSql)).rows[0]!.n;
  console.log(`\nstats: product-table reads by B ${documentReads}; rows in ${cacheTable} ${rows} (UNLOGGED)`);
} finally {
  await a.stop();
  await b.stop();
  if (url) await dropTables(url, [productsTable, cacheTable]);
  await pglite?.close();
}

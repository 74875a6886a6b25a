/**
 * Stale-if-error: with `grace`, an entry past its freshness is kept a while longer, and served only when Postgres
 * fails — a read that would have refetched gets the last known version instead of an error. Run with `just run`
 * (or `npx tsx examples/recipes/stale-if-error/app.ts` from the repository root).
 *
 * The recipe hands postgresModule a connection it owns (a PGlite instance, or a pg.Pool on a real server) and then
 * takes it away — closes the PGlite, ends the pool — so every query the runtime sends afterwards really fails. Time
 * is moved forward through createRuntime's `clock` instead of waiting minutes.
 */
import pg from "pg";
import { z } from "zod";
import type { Clock, DocumentSpec } from "../../../src/index.js";
import { createRuntime, defineDocument, postgresModule, UnavailableError } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

const fields = z.object({ name: z.string(), price: z.number().int() });
export const withGrace = defineDocument({ name: "prices_with_grace", fields, cache: { ttl: "1m", grace: "10m" } });
export const noGrace = defineDocument({ name: "prices_no_grace", fields, cache: { ttl: "1m" } });

/** Real time, plus however far the recipe has fast-forwarded. */
let skew = 0;
const clock: Clock = { now: () => Date.now() + skew, random: Math.random };

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);

// postgresModule gets a connection the recipe owns, on the engine pickEngines() chose; the cache module comes from
// pickEngines as is. A pool or PGlite you pass in is yours: runtime.stop() leaves it open, and so can you close it.
const documents = {
  prices_with_grace: { table: runTable("recipe_stale_if_error_with_grace") },
  prices_no_grace: { table: runTable("recipe_stale_if_error_no_grace") },
};
let takeDown: () => Promise<void>;
let source: ReturnType<typeof postgresModule>;
if (engines.postgres.startsWith("PGlite")) {
  const { PGlite } = await import("@electric-sql/pglite"); // a dev dependency: only the embedded default needs it
  const pglite = await PGlite.create();
  source = postgresModule({ pglite, documents });
  takeDown = () => pglite.close();
} else {
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"; // pickEngines' order
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => {}); // an idle connection dropping is not this recipe's business
  source = postgresModule({ pool, documents });
  takeDown = () => pool.end();
}
const caches = {
  prices_with_grace: { namespace: `recipes:stale-if-error:${process.pid}:with-grace` },
  prices_no_grace: { namespace: `recipes:stale-if-error:${process.pid}:no-grace` },
};
const runtime = createRuntime({
  modules: [source, ...engines.modules({ documents, caches }).filter((m) => m.kind === "cache")],
  clock,
});
try {
  await runtime.start();
  const ctx = runtime.context();
  /** Reads and reports what came back — a document or the error — with the counters that explain it. */
  const read = async (spec: DocumentSpec, when: string, id: string) => {
    const query = ctx.document.query(spec);
    const before = query.stats();
    let outcome: string;
    let failed: unknown;
    try {
      const doc = await query.get(id);
      const after = query.stats();
      const how =
        after.refresh.staleServes > before.refresh.staleServes
          ? "the stale entry (Postgres failed)"
          : after.source.fetches > before.source.fetches
            ? "Postgres"
            : "the cache";
      outcome = `price ${doc.price} from ${how}`;
    } catch (error) {
      failed = error;
      outcome = `throws ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`;
    }
    const { l2, source, refresh } = query.stats();
    const label = `${when.padEnd(7)} ${spec.name.padEnd(17)} get → ${outcome}`;
    console.log(
      `  ${label.padEnd(96)} L2 hits=${l2.hits} misses=${l2.misses}  Postgres reads=${source.fetches}  staleServes=${refresh.staleServes}`,
    );
    return failed;
  };

  const graceful = await ctx.document.command(withGrace).create({ name: "Widget", price: 10 });
  const plain = await ctx.document.command(noGrace).create({ name: "Gadget", price: 20 });
  console.log(`\nttl 1m for both; grace 10m on ${withGrace.name} only (the clock jumps to the times shown)`);
  await read(withGrace, "+0s", graceful.id);
  await read(noGrace, "+0s", plain.id);
  await runtime.settled(); // both fills have landed in L2 (they go right behind the reads)

  await takeDown();
  console.log(`\nPostgres taken away (${engines.postgres.startsWith("PGlite") ? "PGlite closed" : "pg.Pool ended"})`);
  skew = 30_000;
  if ((await read(withGrace, "+30s", graceful.id)) !== undefined) throw new Error("a fresh entry needed Postgres");

  skew = 5 * 60_000;
  const served = await read(withGrace, "+5m", graceful.id);
  if (served !== undefined || ctx.document.query(withGrace).stats().refresh.staleServes !== 1) {
    throw new Error("within grace, the stale entry should have been served while Postgres was down");
  }
  const plainError = await read(noGrace, "+5m", plain.id);
  if (plainError === undefined) throw new Error("without grace, a stale read should have failed with Postgres");

  skew = 11 * 60_000 + 30_000;
  const pastGrace = await read(withGrace, "+11m30s", graceful.id);
  if (pastGrace === undefined) throw new Error("past freshness + grace, the read should have failed with Postgres");
  if (!(pastGrace instanceof UnavailableError) || pastGrace.cause === undefined) {
    throw new Error("the Postgres failure should reach the caller as an UnavailableError, the driver's error as cause");
  }

  console.log("\nstats:", JSON.stringify(ctx.document.query(withGrace).stats(), null, 2));
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

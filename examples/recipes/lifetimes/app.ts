/**
 * Lifetimes: how long an entry stays fresh can follow how it is used. `slidingTtl` keeps a key cached while it is
 * being read (up to the absolute `ttl`) and lets an idle one go; `ageTtl` gives a document a lifetime proportional to
 * how long it has gone unchanged. Run with `just run` (or `npx tsx examples/recipes/lifetimes/app.ts` from the
 * repository root).
 *
 * The sliding part runs in real time (about 1.6 s: Redis expires idle keys on its own clock). The age part moves the
 * runtime's clock (createRuntime's `clock`) hours and days ahead instead of waiting them.
 */
import { z } from "zod";
import type { Clock, DocumentSpec } from "../../../src/index.js";
import { createRuntime, defineDocument } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

export const sessions = defineDocument({
  name: "sessions",
  fields: z.object({ user: z.string() }),
  cache: { ttl: "1500ms", slidingTtl: "400ms" },
});

export const articles = defineDocument({
  name: "articles",
  fields: z.object({ title: z.string(), body: z.string() }),
  cache: { ageTtl: { alpha: 0.1, min: "30s", max: "1h" } },
});

/** Real time until the age part pins it to chosen instants (hours and days after a document's last update). */
let pinned: number | undefined;
const clock: Clock = { now: () => pinned ?? Date.now(), random: Math.random };

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);

const runtime = createRuntime({
  modules: engines.modules({
    documents: {
      sessions: { table: runTable("recipe_lifetimes_sessions") },
      articles: { table: runTable("recipe_lifetimes_articles") },
    },
    caches: {
      sessions: { namespace: `recipes:lifetimes:${process.pid}:sessions` },
      articles: { namespace: `recipes:lifetimes:${process.pid}:articles` },
    },
  }),
  clock,
});
try {
  await runtime.start();
  const ctx = runtime.context();

  /** Reads `id` and checks which tier answered; prints one line. */
  const read = async (spec: DocumentSpec, when: string, what: string, id: string, expected: "cache" | "Postgres") => {
    const query = ctx.document.query(spec);
    const before = query.stats().source.fetches;
    await query.get(id);
    await runtime.settled(); // a miss answers first; its fill lands right behind it
    const { l2, source } = query.stats();
    const from = source.fetches > before ? "Postgres" : "cache";
    console.log(
      `  ${when.padEnd(10)} ${what.padEnd(46)} → from ${from.padEnd(8)}  L2 hits=${l2.hits} misses=${l2.misses}  Postgres reads=${source.fetches}`,
    );
    if (from !== expected) throw new Error(`${spec.name} "${what}" at ${when}: expected the ${expected}, got ${from}`);
  };
  const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - Date.now())));

  console.log(`\nslidingTtl 400ms, ttl 1500ms (real time): "hot" is read every 200ms, "idle" is not`);
  const sessionDocs = ctx.document.command(sessions);
  const hot = await sessionDocs.create({ user: "ada" });
  const idle = await sessionDocs.create({ user: "bob" });
  await read(sessions, "t≈0s", "hot: first read (miss, fill)", hot.id, "Postgres");
  await read(sessions, "t≈0s", "idle: first read (miss, fill)", idle.id, "Postgres");
  const t0 = Date.now();
  for (let i = 1; i <= 5; i++) {
    await sleepUntil(t0 + i * 200);
    await read(sessions, `t≈${(i * 0.2).toFixed(1)}s`, "hot: read again within the idle window", hot.id, "cache");
  }
  await read(sessions, "t≈1.0s", "idle: unread for 1s > 400ms window", idle.id, "Postgres");
  await sleepUntil(t0 + 1_650);
  await read(sessions, "t≈1.65s", "hot: past the absolute ttl (1500ms)", hot.id, "Postgres");

  console.log(`\nageTtl { alpha: 0.1, min: "30s", max: "1h" }: lifetime = clamp(0.1 × time since the last update)`);
  console.log(`(the clock jumps to the times shown, measured from each document's last update)`);
  const articleDocs = ctx.document.command(articles);
  const draft = await articleDocs.create({ title: "Draft", body: "v1" });
  const archived = await articleDocs.create({ title: "Archived", body: "old news" });
  const legacy = await articleDocs.create({ title: "Legacy", body: "older news" });
  const edited = await articleDocs.update(draft.id, draft.rev, { body: "v2" }); // written through: 0.1 × 0s → min 30s
  /** Fast-forwards to `ms` after the document's last update (Postgres' updated_at); time then stands still. */
  const after = (doc: { updatedAt: Date }, ms: number) => {
    pinned = doc.updatedAt.getTime() + ms;
  };
  const s = 1_000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  after(edited, 0);
  await read(articles, "+0s", "draft: just edited → 30s (min)", edited.id, "cache");
  after(edited, 29 * s);
  await read(articles, "+29s", "draft: within its 30s", edited.id, "cache");
  after(edited, 31 * s);
  await read(articles, "+31s", "draft: its 30s are over", edited.id, "Postgres");
  after(archived, 5 * h);
  await read(articles, "+5h", "archived: unchanged for 5h → 30m", archived.id, "Postgres");
  after(archived, 5 * h + 29 * m);
  await read(articles, "+5h29m", "archived: within its 30m", archived.id, "cache");
  after(archived, 5 * h + 31 * m);
  await read(articles, "+5h31m", "archived: its 30m are over", archived.id, "Postgres");
  after(legacy, 30 * d);
  await read(articles, "+30d", "legacy: unchanged for 30d → 3d, capped at 1h", legacy.id, "Postgres");
  after(legacy, 30 * d + 59 * m);
  await read(articles, "+30d59m", "legacy: within its 1h", legacy.id, "cache");
  after(legacy, 30 * d + 61 * m);
  await read(articles, "+30d1h1m", "legacy: its 1h is over", legacy.id, "Postgres");

  const stats = runtime.stats().documents;
  console.log("\nstats:", JSON.stringify({ sessions: stats.sessions?.l2, articles: stats.articles?.l2 }, null, 2));
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

/**
 * Early refresh (XFetch): a hot entry is refetched a little before it expires — by the reader that drew the short
 * straw (inline) or behind every reader's back (background) — so at the moment it would have expired nobody waits for
 * Postgres. Run with `just run` (or `npx tsx examples/recipes/early-refresh/app.ts` from the repository root).
 *
 * Time is simulated (createRuntime's `clock`): the recipe moves it, and every statement sent to Postgres costs
 * FETCH_COST_MS of it — XFetch scales its early window by that cost, and a real primary-key read (about 1 ms) would
 * make the window too narrow to see. Postgres, the cache and the documents are real.
 */
import { z } from "zod";
import type { Clock, DocumentSpec, RuntimeModule } from "../../../src/index.js";
import { createRuntime, defineDocument, postgresModule } from "../../../src/index.js";
import { type Engines, pickEngines, runTable } from "../shared/engines.js";

const FETCH_COST_MS = 2_000;
const fields = z.object({ name: z.string(), price: z.number().int() });

export const plain = defineDocument({ name: "plain_prices", fields, cache: { ttl: "1m" } });
export const inline = defineDocument({
  name: "inline_prices",
  fields,
  cache: { ttl: "1m", earlyRefresh: { beta: 1 } },
});
export const background = defineDocument({
  name: "background_prices",
  fields,
  cache: { ttl: "1m", earlyRefresh: { beta: 1, background: true } },
});

/** Simulated time: moves when the recipe says so, and by FETCH_COST_MS whenever a statement goes to Postgres. */
class SimulatedClock implements Clock {
  #now = Date.now();
  /** The XFetch draw. Fixed so every run prints the same; in production it is Math.random(). */
  draw = 0.5;
  now = (): number => this.#now;
  random = (): number => this.draw;
  advance(ms: number): void {
    this.#now += ms;
  }
  /** Moves to `t` unless time is already past it (a fetch may have moved it). */
  advanceTo(t: number): void {
    if (t > this.#now) this.#now = t;
  }
}

const clock = new SimulatedClock();
const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);
const reach = FETCH_COST_MS * Math.log(1 / clock.draw);
console.log(
  `simulated clock: each Postgres statement takes ${FETCH_COST_MS / 1000}s; ttl 1m; beta 1; draw ${clock.draw} → ` +
    `a hit is elected when expiry is less than ${(reach / 1000).toFixed(2)}s away (delta × beta × ln(1/draw))\n`,
);

const specs = [plain, inline, background];
const tables = Object.fromEntries(specs.map((s) => [s.name, { table: runTable(`recipe_early_refresh_${s.name}`) }]));
const caches = Object.fromEntries(
  specs.map((s) => [s.name, { namespace: `recipes:early-refresh:${process.pid}:${s.name}` }]),
);
const runtime = createRuntime({
  modules: [
    postgresOn(engines, tables, () => clock.advance(FETCH_COST_MS)),
    ...engines.modules({ documents: tables, caches }).filter((m) => m.kind === "cache"),
  ],
  clock,
});
try {
  await runtime.start();
  const plainRun = await hotKey(plain, "plain (no earlyRefresh)");
  if (plainRun.source.fetches !== 2 || plainRun.l2.misses !== 2) {
    throw new Error("without early refresh, the read after expiry should have missed and waited for Postgres");
  }
  const inlineRun = await hotKey(inline, "earlyRefresh inline");
  if (inlineRun.refresh.electedInline !== 1 || inlineRun.l2.misses !== 1 || inlineRun.source.fetches !== 2) {
    throw new Error("inline early refresh should have refetched once before expiry, and nothing should have missed");
  }
  const backgroundRun = await hotKey(background, "earlyRefresh background");
  if (
    backgroundRun.refresh.electedBackground !== 1 ||
    backgroundRun.source.batchFetches !== 1 ||
    backgroundRun.source.fetches !== 1 ||
    backgroundRun.l2.misses !== 1
  ) {
    throw new Error("background early refresh should have refreshed once behind the readers, none of them waiting");
  }
  console.log("stats (background):", JSON.stringify(runtime.stats().documents[background.name], null, 2));
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

/** One hot key on its own document: filled, read mid-life, read 1 s before expiry, read 1 s after it. */
async function hotKey(spec: DocumentSpec, label: string) {
  const ctx = runtime.context();
  const query = ctx.document.query(spec);
  console.log(`— ${label}`);
  const created = await ctx.document.command(spec).create({ name: "Widget", price: 10 });
  let t0 = 0;
  const read = async (at: number, note: string) => {
    clock.advanceTo(t0 + at);
    const before = query.stats();
    const doc = await query.get(created.id);
    await runtime.settled(); // a miss answers first; its fill lands right behind it
    const after = query.stats();
    const refreshing = after.refresh.electedBackground > before.refresh.electedBackground;
    if (refreshing) await refreshLanded(() => query.stats().source.fills > before.source.fills);
    const waited = after.source.fetches > before.source.fetches;
    const from = waited ? `Postgres (reader waited ${FETCH_COST_MS / 1000}s)` : "the cache";
    const what = `${`t=+${at / 1000}s`.padEnd(6)} ${note.padEnd(24)} → price ${doc.price} from ${from}`;
    const { l2, source, refresh } = query.stats();
    console.log(
      `  ${what.padEnd(80)} L2 hits=${l2.hits} misses=${l2.misses}  reader fetches=${source.fetches}  ` +
        `refreshed early: inline=${refresh.electedInline} background=${source.batchFetches}`,
    );
    return doc;
  };
  await read(0, "first read (miss)");
  t0 = clock.now(); // the entry was fetched now: fresh until t0 + 1m
  await read(30_000, "mid-life (30s left)");
  await read(59_000, "1s before expiry");
  await read(61_000, "1s after expiry");
  console.log("");
  return query.stats();
}

/** A background refresh runs detached; the recipe waits (in real time) for it to land before time moves on. */
async function refreshLanded(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("the background refresh did not run");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * postgresModule on the engine pickEngines() chose. The recipe wires it itself because it needs `onQuery` (to charge
 * the simulated fetch cost), which engines.modules() does not pass through; the cache module comes from pickEngines.
 */
function postgresOn(
  chosen: Engines,
  documents: Record<string, { table: string }>,
  onQuery: (sql: string) => void,
): RuntimeModule {
  if (chosen.postgres.startsWith("PGlite")) return postgresModule({ pglite: true, documents, onQuery });
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"; // pickEngines' order
  return postgresModule({ url, documents, onQuery });
}

/**
 * Transactions: several writes in one Postgres transaction. The caches see the new versions only after COMMIT; a
 * rollback leaves them exactly as they were; reads inside the transaction go to Postgres (they see the transaction's
 * own uncommitted writes) and never fill a cache. Run with `just run` (or
 * `npx tsx examples/recipes/transactions/app.ts` from the repository root).
 */
import { z } from "zod";
import { createRuntime, defineDocument } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

export const accounts = defineDocument({
  name: "accounts",
  fields: z.object({ owner: z.string(), balance: z.number().int() }),
  cache: { ttl: "5m" },
});

class InsufficientFunds extends Error {}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`transactions recipe: ${message}`);
}

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);

const runtime = createRuntime({
  modules: engines.modules({
    documents: { accounts: { table: runTable("recipe_transactions_accounts") } },
    caches: { accounts: { namespace: `recipes:transactions:${process.pid}` } },
  }),
});
try {
  await runtime.start();
  const ctx = runtime.context();
  const docs = ctx.document.command(accounts);
  const query = ctx.document.query(accounts);
  /** The counters of `accounts` on this runtime: every context (the transaction's too) shares them. */
  const counters = () => {
    const { l2, source } = query.stats();
    return { hits: l2.hits, misses: l2.misses, pg: source.fetches, fills: source.fills, wt: source.writeThroughs };
  };
  const step = (what: string) => {
    const c = counters();
    console.log(
      `${what.padEnd(76)} L2 hits=${c.hits} misses=${c.misses}  Postgres reads=${c.pg}  fills=${c.fills}  write-throughs=${c.wt}`,
    );
  };

  // ── Setup: two accounts, read once each so that the L2 holds rev 1 of both. ──
  console.log("\n── setup ──");
  const alice = await docs.create({ owner: "alice", balance: 100 });
  const bob = await docs.create({ owner: "bob", balance: 50 });
  step(`create alice (100) and bob (50), rev 1 each`);
  await query.get(alice.id);
  await query.get(bob.id);
  await runtime.settled(); // a miss answers first; its fill lands right behind it
  step(`get alice, get bob → misses: Postgres, then filled into the L2`);
  check(counters().fills === 2, "the first reads did not fill the L2");

  // ── A transaction that commits: a transfer (two updates) and a new account (a create). ──
  console.log("\n── transaction 1: transfer 30 alice → bob, open carol; commits ──");
  const carolId = await ctx.transaction(async (tx) => {
    const txDocs = tx.document.command(accounts);
    const txQuery = tx.document.query(accounts);
    const a = await txDocs.update(alice.id, alice.rev, { balance: alice.balance - 30 });
    const b = await txDocs.update(bob.id, bob.rev, { balance: bob.balance + 30 });
    const carol = await txDocs.create({ owner: "carol", balance: 25 });
    step(`  in tx: update alice → ${a.balance} (rev ${a.rev}), bob → ${b.balance} (rev ${b.rev}), create carol`);
    check(counters().wt === 0, "a write inside the transaction reached the L2 before COMMIT");

    const before = counters();
    const seen = await txQuery.get(alice.id);
    const after = counters();
    step(`  in tx: get alice → ${seen.balance} (rev ${seen.rev}) from Postgres: its own write, no fill`);
    check(seen.balance === 70 && seen.rev === 2, `the transaction did not read its own write (${seen.balance})`);
    check(after.pg === before.pg + 1, "a read inside the transaction did not go to Postgres");
    check(after.hits === before.hits && after.misses === before.misses, "a read inside the transaction used the L2");
    check(after.fills === before.fills, "a read inside the transaction filled the L2");

    // Outside the transaction (another request, meanwhile): the cache still serves the committed version.
    const outside = await query.get(alice.id);
    step(`  outside, meanwhile: get alice → ${outside.balance} (rev ${outside.rev}), L2 hit: not committed yet`);
    check(outside.balance === 100 && outside.rev === 1, "an uncommitted write was visible outside the transaction");
    return carol.id;
  });
  step(`COMMIT → the hooks ran: alice and bob written through to the L2`);
  check(counters().wt === 2, `expected 2 write-throughs after COMMIT, got ${counters().wt}`);

  let before = counters();
  const a1 = await query.get(alice.id);
  const b1 = await query.get(bob.id);
  step(`get alice → ${a1.balance} (rev ${a1.rev}), get bob → ${b1.balance} (rev ${b1.rev}): L2 hits, no SQL`);
  check(a1.balance === 70 && a1.rev === 2 && b1.balance === 80 && b1.rev === 2, "stale read after COMMIT");
  check(counters().hits === before.hits + 2 && counters().pg === before.pg, "the reads after COMMIT were not L2 hits");

  before = counters();
  const carol = await query.get(carolId);
  await runtime.settled();
  step(`get carol → ${carol.balance} (rev ${carol.rev}): the create wrote no L2 entry; this read fills`);
  check(carol.balance === 25, "carol was not created");
  check(counters().pg === before.pg + 1 && counters().fills === before.fills + 1, "carol's first read did not fill");

  // ── A transaction that throws: everything inside rolls back, and no cache hears of it. ──
  console.log("\n── transaction 2: alice pays 500, open dave; throws → ROLLBACK ──");
  let daveId: string | undefined;
  const beforeRollback = counters();
  try {
    await ctx.transaction(async (tx) => {
      const txDocs = tx.document.command(accounts);
      const a = await txDocs.update(alice.id, a1.rev, { balance: a1.balance - 500 });
      const dave = await txDocs.create({ owner: "dave", balance: 0 });
      daveId = dave.id;
      const seen = await tx.document.query(accounts).get(alice.id);
      step(`  in tx: update alice → ${a.balance} (rev ${a.rev}), create dave; in-tx get → ${seen.balance}`);
      if (seen.balance < 0) throw new InsufficientFunds(`alice would be at ${seen.balance}`);
    });
    check(false, "the transaction did not throw");
  } catch (error) {
    if (!(error instanceof InsufficientFunds)) throw error;
    step(`ROLLBACK → rethrown as is: ${error.constructor.name}: ${error.message}`);
  }
  const afterRollback = counters();
  check(afterRollback.wt === beforeRollback.wt, "a rolled-back write reached the L2");
  check(afterRollback.fills === beforeRollback.fills, "a rolled-back transaction filled the L2");

  before = counters();
  const cached = await query.get(alice.id);
  step(`get alice → ${cached.balance} (rev ${cached.rev}): L2 hit, the cache was never touched`);
  check(
    cached.balance === 70 && cached.rev === 2,
    `the L2 served ${cached.balance} (rev ${cached.rev}) after rollback`,
  );
  check(
    counters().hits === before.hits + 1 && counters().pg === before.pg,
    "the read after rollback was not an L2 hit",
  );

  before = counters();
  const source = await query.get(alice.id, { skipCache: true });
  step(`get alice { skipCache: true } → ${source.balance} (rev ${source.rev}): Postgres agrees`);
  check(source.balance === 70 && source.rev === 2, "Postgres kept a rolled-back write");
  check(counters().pg === before.pg + 1, "skipCache did not read Postgres");

  const dave = await query.find(daveId as string);
  step(`find dave → ${dave === undefined ? "undefined" : "a document"}: its create rolled back too`);
  check(dave === undefined, "a document created in a rolled-back transaction exists");

  const { l2, source: src } = query.stats();
  console.log(`\nl2: ${JSON.stringify(l2)}`);
  console.log(`source: ${JSON.stringify(src)}`);
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

/**
 * Multi-tenant: one document type shared by tenants, isolated from Postgres to L1. The document is tenant-scoped,
 * so its table has a tenant column every statement filters on, and it is used from `runtime.context({ tenant })`.
 * Two tenants create the same id, and neither ever sees the other's row — not from L1, not from Redis (the tenant is
 * in every key, in the envelope header and in the sealing's associated data), not from Postgres. Run with `just run`
 * (or `npx tsx examples/recipes/multi-tenant/app.ts` from the repository root).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { createRuntime, defineDocument, NotFoundError, TenantRequiredError } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

const invoices = defineDocument({
  name: "invoices",
  fields: z.object({ customer: z.string(), total: z.number().int() }),
  cache: { ttl: "10m", l1: { ttl: "30s", capacity: 1_000 } },
  tenantScoped: true,
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`multi-tenant recipe: ${message}`);
}

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);
const namespace = `recipes:multi-tenant:${process.pid}`;
const runtime = createRuntime({
  modules: engines.modules({
    documents: { invoices: { table: runTable("recipe_multi_tenant_invoices") } },
    caches: {
      // "tagged" is the default tier: one namespace, the tenant in every key.
      invoices: { namespace, tenancy: "tagged", encryption: { keys: { k1: randomBytes(32) }, active: "k1" } },
    },
  }),
  documents: [invoices], // listed: start() creates the table with its tenant column
});
try {
  await runtime.start();
  const acme = runtime.context({ tenant: "acme" });
  const globex = runtime.context({ tenant: "globex" });
  const id = randomUUID();
  await acme.document.command(invoices).create({ id, customer: "Wile E. Coyote", total: 1200 });
  await globex.document.command(invoices).create({ id, customer: "Hank Scorpio", total: 99 });
  console.log(`\nacme and globex each created invoice ${id.slice(0, 8)}… (the same id)`);

  for (let round = 1; round <= 3; round++) {
    const a = await acme.document.query(invoices).get(id);
    const g = await globex.document.query(invoices).get(id);
    console.log(`round ${round}: acme → ${a.customer} (${a.total}); globex → ${g.customer} (${g.total})`);
    check(a.customer === "Wile E. Coyote" && g.customer === "Hank Scorpio", "a tenant saw another's invoice");
  }
  const initech = runtime.context({ tenant: "initech" });
  const none = await initech.document.query(invoices).find(id);
  console.log(`initech find(same id) → ${none === undefined ? "undefined" : "FOUND"} (not its row)`);
  check(none === undefined, "a third tenant found the invoice");
  const refused = await initech.document
    .command(invoices)
    .update(id, 1, { total: 0 })
    .catch((error: unknown) => error);
  console.log(`initech update(same id) → ${(refused as Error).name}`);
  check(refused instanceof NotFoundError, "a cross-tenant update was not NotFound");
  try {
    runtime.context().document.query(invoices);
    check(false, "a context without tenant was accepted");
  } catch (error) {
    console.log(`runtime.context() (no tenant) → ${(error as Error).name}: ${(error as Error).message}`);
    check(error instanceof TenantRequiredError, "not a TenantRequiredError");
  }

  await acme.document.command(invoices).update(id, 1, { total: 1300 });
  const after = [await acme.document.query(invoices).get(id), await globex.document.query(invoices).get(id)];
  console.log(`acme updated its invoice → acme total ${after[0]!.total}, globex total ${after[1]!.total} (untouched)`);
  check(after[0]!.total === 1300 && after[1]!.total === 99, "an update crossed tenants");

  // The key/value port of a tenant context is that tenant's too.
  await acme.cache("invoices").set("last-export", "2026-11-30");
  const other = await globex.cache("invoices").get("last-export");
  console.log(`acme cache set("last-export"); globex cache get("last-export") → ${String(other)}`);
  check(other === undefined, "a key/value entry crossed tenants");

  console.log("\nper-tenant stats (one entry per tenant used; tenants share one L1, keyed by tenant):");
  const documents = Object.entries(runtime.stats().documents);
  for (const [name, stats] of documents) {
    console.log(
      `  ${name.padEnd(18)} L2 hits=${stats.l2.hits} misses=${stats.l2.misses}  Postgres reads=${stats.source.fetches}`,
    );
  }
  console.log(`  shared L1: ${JSON.stringify(documents[0]![1].l1)}`);
  const sealing = runtime.stats().caches.invoices!.sealing!;
  console.log(`sealing of the invoices route: ${JSON.stringify(sealing)}`);
  check(sealing.authFailed === 0, "a sealed value failed authentication");
} finally {
  await runtime.stop();
  await engines.cleanUp();
}

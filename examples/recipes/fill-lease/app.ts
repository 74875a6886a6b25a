/**
 * Fill lease: four replicas share Postgres and Redis. A cold key read by all of them at once costs one Postgres
 * read with `cache.lease` (the others wait for its fill), against one per replica without it; a cold getMany costs
 * one read per id in total. Run with `just run` (or `npx tsx examples/recipes/fill-lease/app.ts` from the repository
 * root). Exits with code 2, saying why, when no Redis can be found or started.
 */
import { z } from "zod";
import type { CacheSpecInput, DocumentStats, Runtime } from "../../../src/index.js";
import { createRuntime, defineDocument, redisModule } from "../../../src/index.js";
import {
  CannotRunError,
  findPostgres,
  findRedis,
  type PostgresServer,
  type RedisServer,
} from "../push-invalidation/servers.js";
import { runTable } from "../shared/engines.js";

const fields = z.object({ name: z.string(), price: z.number().int() });
const leased = { ttl: "5m", lease: { maxWait: "2s" } } satisfies CacheSpecInput; // lease: true takes the defaults
const REPLICAS = 4;
const READS = 250;
const IDS = 30;

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`fill-lease recipe: ${message}`);
}

const base = `recipes:fill-lease:${process.pid}:${Date.now().toString(36)}`;
const namespaces = [`${base}:off`, `${base}:on`, `${base}:kv-off`, `${base}:kv-on`];
let redis: RedisServer | undefined;
let postgres: PostgresServer | undefined;
const runtimes: Runtime[] = [];
try {
  redis = await findRedis();
  postgres = await findPostgres();
  console.log(`engines: ${postgres.description}; ${redis.description}`);
  await demo(redis, postgres);
} catch (error) {
  if (!(error instanceof CannotRunError)) throw error;
  console.error(`cannot run the fill-lease recipe: ${error.message}`);
  process.exitCode = 2;
} finally {
  for (const runtime of runtimes) await runtime.stop();
  await postgres?.close();
  await redis?.cleanUp(namespaces);
  await redis?.stop();
}

async function demo(redis: RedisServer, postgres: PostgresServer): Promise<void> {
  const table = runTable("recipe_fill_lease_products");
  const fleet = async (lease: boolean) => {
    const spec = defineDocument({ name: "lease_products", fields, cache: lease ? leased : { ttl: "5m" } });
    const replicas: Runtime[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const runtime = createRuntime({
        modules: [
          postgres.module({ lease_products: { table } }),
          redisModule({
            url: redis.url,
            // Push on: a waiter is woken by the invalidation of the filled key (else it polls, 10 → 50 ms).
            caches: {
              lease_products: { namespace: namespaces[lease ? 1 : 0]!, invalidationPush: true },
              // The cache API's getOrSet leases the same way: route option `lease` (or per call `lease: true`).
              lease_kv: {
                namespace: namespaces[lease ? 3 : 2]!,
                invalidationPush: true,
                ...(lease ? { lease: { maxWait: "2s" } } : {}),
              },
            },
          }),
        ],
      });
      runtimes.push(runtime);
      await runtime.start();
      replicas.push(runtime);
    }
    return {
      spec,
      queries: replicas.map((runtime) => runtime.context().document.query(spec)),
      caches: replicas.map((runtime) => runtime.cache("lease_kv")),
    };
  };
  const off = await fleet(false);
  const on = await fleet(true);
  const commands = runtimes[0]!.context().document.command(off.spec);
  const sum = (stats: DocumentStats[], pick: (s: DocumentStats) => number) => stats.reduce((n, s) => n + pick(s), 0);

  for (const [label, { queries }] of [
    ["lease off", off],
    ["lease on ", on],
  ] as const) {
    const { id } = await commands.create({ name: "Hot", price: 1 }); // cold in every replica and in Redis
    const before = queries.map((q) => q.stats());
    await Promise.all(queries.flatMap((q) => Array.from({ length: READS }, () => q.get(id))));
    const after = queries.map((q) => q.stats());
    const reads = sum(after, (s) => s.source.fetches) - sum(before, (s) => s.source.fetches);
    console.log(
      `${label}: ${REPLICAS} replicas × ${READS} concurrent gets of one cold key → ${reads} Postgres read(s)`,
    );
    if (label === "lease on ") {
      const lease = after.map((s) => s.lease!);
      console.log(
        `           lease stats: granted=${sum(after, (s) => s.lease!.granted)} waits=${sum(after, (s) => s.lease!.waits)} holderTimeouts=${sum(after, (s) => s.lease!.holderTimeouts)} fallbacks=${sum(after, (s) => s.lease!.fallbacks)}`,
      );
      check(reads === 1, `expected one Postgres read with the lease, got ${reads}`);
      check(
        lease.every((s) => s.holderTimeouts === 0),
        "a waiter timed out",
      );
    } else {
      check(reads >= 1, "no Postgres read at all");
    }
  }

  for (const [label, { queries }] of [
    ["lease off", off],
    ["lease on ", on],
  ] as const) {
    const ids: string[] = [];
    for (let i = 0; i < IDS; i++) ids.push((await commands.create({ name: `p${i}`, price: i })).id);
    const before = queries.map((q) => q.stats());
    await Promise.all(queries.map((q) => q.getMany([...ids].reverse())));
    const after = queries.map((q) => q.stats());
    // Ids read from Postgres: every L2 miss without the lease; every lease taken (or timed-out read) with it.
    const idsRead = after[0]!.lease
      ? sum(after, (s) => s.lease!.granted + s.lease!.fallbacks) -
        sum(before, (s) => s.lease!.granted + s.lease!.fallbacks)
      : sum(after, (s) => s.l2.misses) - sum(before, (s) => s.l2.misses);
    console.log(`${label}: ${REPLICAS} replicas × getMany of ${IDS} cold ids → ${idsRead} ids read from Postgres`);
    if (label === "lease on ") check(idsRead === IDS, `expected ${IDS} ids read with the lease, got ${idsRead}`);
  }

  for (const [label, { caches }] of [
    ["lease off", off],
    ["lease on ", on],
  ] as const) {
    const key = `report:${label.trim()}`; // cold: never computed
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 50)); // an expensive computation
      return { total: 42 };
    };
    await Promise.all(caches.flatMap((cache) => Array.from({ length: READS }, () => cache.getOrSet(key, loader))));
    console.log(
      `${label}: ${REPLICAS} replicas × ${READS} concurrent getOrSet of one cold key → ${runs} loader run(s)`,
    );
    if (label === "lease on ") {
      const lease = caches.map((cache) => cache.stats().lease!);
      const total = (pick: (s: (typeof lease)[number]) => number) => lease.reduce((n, s) => n + pick(s), 0);
      console.log(
        `           lease stats: granted=${total((s) => s.granted)} waits=${total((s) => s.waits)} holderTimeouts=${total((s) => s.holderTimeouts)} fallbacks=${total((s) => s.fallbacks)}`,
      );
      check(runs === 1, `expected one loader run with the lease, got ${runs}`);
    } else {
      check(runs >= 1, "no loader run at all");
    }
  }
}

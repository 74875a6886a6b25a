/**
 * Push invalidation: two replicas (A and B) share Postgres and Redis; each keeps an L1 with a long l1.ttl. When A
 * writes, Redis pushes the changed key to B (CLIENT TRACKING) and B drops its L1 copy within milliseconds, instead of
 * serving the old version until l1.ttl. Run with `just run` (or `npx tsx examples/recipes/push-invalidation/app.ts`
 * from the repository root). Exits with code 2, saying why, when no Redis can be found or started.
 */
import { setImmediate as nextTick } from "node:timers/promises";
import { z } from "zod";
import type { PushStats, Runtime } from "../../../src/index.js";
import { createRuntime, defineDocument, redisModule } from "../../../src/index.js";
import { runTable } from "../shared/engines.js";
import { CannotRunError, findPostgres, findRedis, type PostgresServer, type RedisServer } from "./servers.js";

export const products = defineDocument({
  name: "push_products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: {
    ttl: "5m", // L2 lifetime: also the bound for a write that never reached Redis
    l1: { ttl: "1m", capacity: 1_000 }, // long: with push on, l1.ttl is only the backstop
  },
});

/** Longest wait for the push before the recipe calls it broken (it takes about a millisecond on loopback). */
const PUSH_DEADLINE_MS = 2_000;

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`push-invalidation recipe: ${message}`);
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

/** Unique to this run; every key under it is deleted at the end (as are the tables, by `postgres.close()`). */
const namespace = `recipes:push-invalidation:${process.pid}:${Date.now().toString(36)}`;
let redis: RedisServer | undefined;
let postgres: PostgresServer | undefined;
const replicas: Runtime[] = [];
try {
  redis = await findRedis();
  postgres = await findPostgres();
  console.log(`engines: ${postgres.description}; ${redis.description}`);
  await demo(redis, postgres);
} catch (error) {
  if (!(error instanceof CannotRunError)) throw error;
  console.error(`cannot run the push-invalidation recipe: ${error.message}`);
  process.exitCode = 2;
} finally {
  for (const runtime of replicas) await runtime.stop();
  await postgres?.close();
  await redis?.cleanUp([namespace]);
  await redis?.stop();
}

async function demo(redis: RedisServer, postgres: PostgresServer): Promise<void> {
  const replica = async (name: string) => {
    const runtime = createRuntime({
      modules: [
        postgres.module({ push_products: { table: runTable("recipe_push_invalidation_products") } }),
        redisModule({
          url: redis.url,
          caches: { push_products: { namespace, invalidationPush: true } },
          // The defaults, spelled out: a silent channel (a server or link that stops answering) is noticed within
          // heartbeatIntervalMs + heartbeatTimeoutMs, and L1 is then flushed and bypassed until push re-arms.
          invalidation: { heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 2_000 },
        }),
      ],
    });
    replicas.push(runtime);
    await runtime.start();
    await armed(runtime, name);
    return runtime;
  };
  const a = await replica("A");
  const b = await replica("B");
  const push = (runtime: Runtime): PushStats => runtime.stats().caches.push_products!.push;
  console.log(`replicas A and B started: push ${push(a).state} on both (namespace ${namespace})`);

  const onB = b.context().document.query(products);
  const tiers = () => {
    const { l1, l2, source } = onB.stats();
    return { l1: l1?.hits ?? 0, l2: l2.hits + l2.misses, pg: source.fetches };
  };
  /** One read on B, saying which tier answered it. */
  const readOnB = async (id: string) => {
    const before = tiers();
    const doc = await onB.get(id);
    const after = tiers();
    const tier =
      after.l1 > before.l1
        ? "L1 hit: no Redis, no SQL"
        : after.pg > before.pg
          ? "L1 miss, L2 miss: Postgres, fills L2 and L1"
          : "L1 miss, L2 hit: fills L1";
    return { doc, tier, l1Hit: after.l1 > before.l1 };
  };
  const line = (who: string, what: string) => console.log(`${who}  ${what}`);

  const created = await a.context().document.command(products).create({ name: "Widget", price: 10 });
  line("A", `create → ${created.name} at ${created.price} (rev ${created.rev})`);

  // B's first read fills L2 from Postgres; that SET is a write to a tracked key, so Redis pushes it to every replica,
  // B included (it cannot tell writers apart), and B drops its own fresh L1 copy. The next read (an L2 hit) stays.
  for (let read = 1; onB.peek(created.id) === undefined; read++) {
    check(read <= 10, "B's L1 never kept the document");
    const { doc, tier } = await readOnB(created.id);
    await new Promise((resolve) => setTimeout(resolve, 25)); // time for any echo of this read's own fill
    const kept = onB.peek(created.id) !== undefined;
    line(
      "B",
      `get → rev ${doc.rev}, price ${doc.price} (${tier})${kept ? "" : " — then dropped by the push of its own L2 fill"}`,
    );
  }
  const cached = await readOnB(created.id);
  line("B", `get → rev ${cached.doc.rev}, price ${cached.doc.price} (${cached.tier})`);
  check(cached.l1Hit && cached.doc.rev === 1, "B's read before the update was not an L1 hit on rev 1");

  // A writes; watch B's push counters (not B's L1, which a peek would count as a lookup) until the drop lands.
  const droppedBefore = push(b).dropped;
  const started = performance.now();
  let returned: number | undefined;
  const writing = a
    .context()
    .document.command(products)
    .update(created.id, created.rev, { price: 12 })
    .then((doc) => {
      returned = performance.now();
      return doc;
    });
  let droppedAt: number | undefined;
  while (droppedAt === undefined) {
    if (push(b).dropped > droppedBefore) droppedAt = performance.now();
    else if (performance.now() - started > PUSH_DEADLINE_MS) break;
    else await nextTick();
  }
  const updated = await writing;
  line(
    "A",
    `update → price ${updated.price} (rev ${updated.rev}) in ${ms(returned! - started)}: Postgres commit, then the write-through to Redis`,
  );
  check(droppedAt !== undefined, `B's L1 still held rev 1 ${PUSH_DEADLINE_MS} ms after A's update`);
  const lag = droppedAt! - started;
  const afterReturn =
    returned === undefined || droppedAt! < returned
      ? "before it had even returned"
      : `${ms(droppedAt! - returned)} after it returned`;
  line("B", `L1 copy of rev 1 dropped by push ${ms(lag)} after A's update() began, ${afterReturn}`);
  console.log(`   staleness on B: at most ${ms(lag)} (with push off: up to l1.ttl, 1m)`);
  check(onB.peek(created.id) === undefined, "B's L1 still holds rev 1");

  const fresh = await readOnB(created.id);
  line("B", `get → rev ${fresh.doc.rev}, price ${fresh.doc.price} (${fresh.tier})`);
  check(fresh.doc.rev === 2 && fresh.doc.price === 12, `B read rev ${fresh.doc.rev} after the push`);
  const again = await readOnB(created.id);
  line("B", `get → rev ${again.doc.rev}, price ${again.doc.price} (${again.tier})`);
  check(again.doc.rev === 2, "B went back to rev 1");

  for (const [name, runtime] of [
    ["A", a],
    ["B", b],
  ] as const) {
    const stats = push(runtime);
    console.log(
      `\npush stats of ${name}: state=${stats.state} epoch=${stats.epoch} armings=${stats.armings} ` +
        `disarmings=${stats.disarmings} invalidations=${stats.invalidations} dropped=${stats.dropped} ` +
        `flushes=${JSON.stringify(stats.flushes)}`,
    );
    console.log(
      `runtime.stats().caches.push_products of ${name}:`,
      JSON.stringify(runtime.stats().caches.push_products),
    );
  }
  check(push(b).state === "armed" && push(b).dropped >= 1, "B's push stats do not show the drop");
}

/** Push must be armed before the demo means anything; a server without CLIENT TRACKING cannot show it. */
async function armed(runtime: Runtime, name: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const stats = runtime.stats().caches.push_products!.push;
    if (stats.state === "armed") return;
    if (stats.state === "unsupported") {
      throw new CannotRunError(`replica ${name}: this Redis cannot push invalidations (${stats.unsupportedReason})`);
    }
    if (Date.now() > deadline) {
      throw new CannotRunError(`replica ${name}: push did not arm within 3 s (last loss: ${stats.lastDisarm})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

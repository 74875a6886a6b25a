/**
 * Change capture: a raw UPDATE made behind the library's back (psql, a migration, another service) reaches every
 * replica's cache. Replicas A and B keep an L1 with push on; first no relay runs (what the stats say then), then a
 * third replica R starts relaying: it drains the outbox, its fences land in Redis, and push drops B's stale copy.
 * A second raw UPDATE rings the doorbell after its commit and is seen within milliseconds. Run with `just run` (or
 * `npx tsx examples/recipes/change-capture/app.ts` from the repository root). Exits with code 2, saying why, when no
 * Postgres or Redis can be found or started. Leaves nothing behind: the table, the triggers, the outbox and the keys
 * are removed at the end (the uninstall SQL is `changeCaptureUninstallSql`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { z } from "zod";
import type { Runtime } from "../../../src/index.js";
import {
  changeCaptureUninstallSql,
  createRuntime,
  defineDocument,
  postgresModule,
  redisModule,
} from "../../../src/index.js";
import { CannotRunError, findRedis, type RedisServer } from "../push-invalidation/servers.js";
import { runTable } from "../shared/engines.js";

export const products = defineDocument({
  name: "capture_products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m", l1: { ttl: "1m", capacity: 1_000 } }, // long: without capture, a raw write stays this long
});

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const DEADLINE_MS = 5_000;
const table = runTable("recipe_change_capture_products");
const namespace = `recipes:change-capture:${process.pid}:${Date.now().toString(36)}`;

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`change-capture recipe: ${message}`);
}

let redis: RedisServer | undefined;
let url: string | undefined;
const replicas: Runtime[] = [];
try {
  url = process.env.DATABASE_URL ?? LOCAL_POSTGRES;
  await answers(url);
  redis = await findRedis();
  console.log(`engines: Postgres at ${new URL(url).host}; ${redis.description}`);
  await demo(url, redis);
} catch (error) {
  if (!(error instanceof CannotRunError)) throw error;
  console.error(`cannot run the change-capture recipe: ${error.message}`);
  process.exitCode = 2;
} finally {
  for (const runtime of replicas) await runtime.stop();
  if (url !== undefined) await cleanUp(url).catch(() => {});
  await redis?.cleanUp([namespace]);
  await redis?.stop();
}

async function demo(url: string, redis: RedisServer): Promise<void> {
  const replica = async (relay: boolean) => {
    const runtime = createRuntime({
      modules: [
        postgresModule({
          url,
          documents: { capture_products: { table, changeCapture: true } }, // installs the triggers and the outbox
          changeRelay: { enabled: relay, pollInterval: "250ms" }, // the default poll; the doorbell wakes it sooner
        }),
        redisModule({ url: redis.url, caches: { capture_products: { namespace, invalidationPush: true } } }),
      ],
      documents: [products], // a relaying runtime must know the captured documents
    });
    replicas.push(runtime);
    await runtime.start();
    return runtime;
  };
  const a = await replica(false);
  const b = await replica(false);
  const onB = b.context().document.query(products);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    const created = await a.context().document.command(products).create({ name: "Widget", price: 10 });
    console.log(`A  create → ${created.name} at ${created.price} (rev ${created.rev})`);
    for (let i = 0; onB.peek(created.id) === undefined; i++) {
      check(i < 20, "B's L1 never kept the document");
      await onB.get(created.id);
      await sleep(25);
    }
    console.log(`B  get → price ${(await onB.get(created.id)).price} (L1 hit)`);

    // Behind the library's back: no rev bump, no Redis write. The trigger gives it rev 2 and records it.
    await sql.query(`UPDATE ${table} SET data = data || '{"price": 11}' WHERE id = $1`, [created.id]);
    console.log(`psql  UPDATE ${table} SET data = data || '{"price": 11}' (no rev bump, no cache call)`);
    await sleep(600);
    const stale = await onB.get(created.id);
    const outbox = (await sql.query("SELECT count(*)::int AS n FROM stratacache_outbox")).rows[0].n as number;
    console.log(`B  get → price ${stale.price} (rev ${stale.rev}) 600 ms later: still the old version, no relay runs`);
    console.log(`   runtime.stats().changeCapture.capture_products of B: ${JSON.stringify(capture(b))}`);
    console.log(`   outbox rows waiting: ${outbox}`);
    check(stale.price === 10 && capture(b).relay === "off" && outbox >= 1, "the write was seen without a relay");

    // A relay starts (any replica may run one; several share the work): it drains the backlog.
    const started = performance.now();
    const r = await replica(true);
    const seen = await until(async () => (await onB.get(created.id)).price === 11);
    console.log(`R  relay started; B saw price 11 ${ms(seen - started)} later (R's start included)`);

    // A raw write that rings the doorbell after its commit: seen in milliseconds, not a poll interval.
    await until(async () => (await onB.get(created.id)) !== undefined && onB.peek(created.id)?.price === 11);
    const committed = performance.now();
    await sql.query(`UPDATE ${table} SET data = data || '{"price": 12}' WHERE id = $1`, [created.id]);
    await sql.query("SELECT pg_notify('stratacache_outbox', '')");
    const seenAgain = await until(async () => (await onB.get(created.id)).price === 12);
    const fresh = await onB.get(created.id);
    console.log(`psql  UPDATE … price 12, then SELECT pg_notify('stratacache_outbox', '') after the commit`);
    console.log(`B  get → price ${fresh.price} (rev ${fresh.rev}) ${ms(seenAgain - committed)} after the commit`);
    check(fresh.price === 12 && fresh.rev === 3, `B read price ${fresh.price} after the doorbell`);
    await until(async () => capture(r).depth === 0 && capture(r).polls > 0);
    console.log(`\nruntime.stats().changeCapture.capture_products of R: ${JSON.stringify(capture(r))}`);
    check(capture(r).applied >= 2 && capture(r).relay === "running", "R's stats do not show the relay's work");
  } finally {
    await sql.end();
  }
}

function capture(runtime: Runtime) {
  return runtime.stats().changeCapture.capture_products!;
}

async function until(probe: () => Promise<boolean>): Promise<number> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    if (await probe()) return performance.now();
    check(performance.now() < deadline, `nothing seen within ${DEADLINE_MS} ms`);
    await sleep(1);
  }
}

async function answers(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new CannotRunError(`no Postgres at ${new URL(url).host}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The triggers, functions and outbox (the documented uninstall SQL), then the table. */
async function cleanUp(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(changeCaptureUninstallSql);
    await client.query(`DROP TABLE IF EXISTS ${table}`);
  } finally {
    await client.end();
  }
}

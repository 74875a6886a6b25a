/**
 * Redis Cluster: two replicas (A and B) share Postgres and a 3-master + 3-replica Redis Cluster, each with an L1 and
 * push invalidation. Push runs one subscriber per cluster node; a write on A drops B's L1 copies whichever master
 * holds them, and a failover (`CLUSTER FAILOVER` on a replica) is absorbed without a failed or stale read. Run with
 * `just run` (or `npx tsx examples/recipes/cluster/app.ts` from the repository root). Uses REDIS_CLUSTER_NODES when
 * set (then no failover: it is yours), else starts a local cluster; exits with code 2, saying why, when it cannot.
 */
import { Cluster } from "ioredis";
import { z } from "zod";
import type { PushStats, Runtime } from "../../../src/index.js";
import { createRuntime, defineDocument, redisModule } from "../../../src/index.js";
import { hashSlot } from "../../../src/l2/redis/hash-slot.js";
import { findPostgres, type PostgresServer } from "../push-invalidation/servers.js";
import { runTable } from "../shared/engines.js";
import { CannotRunError, type ClusterServers, findCluster } from "./local-cluster.js";

export const products = defineDocument({
  name: "cluster_products",
  fields: z.object({ name: z.string(), price: z.number().int() }),
  cache: { ttl: "5m", l1: { ttl: "1m", capacity: 1_000 } },
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`cluster recipe: ${message}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    check(Date.now() < deadline, `${what} (waited ${timeoutMs} ms)`);
    await sleep(10);
  }
}

const namespace = `recipes:cluster:${process.pid}:${Date.now().toString(36)}`;
let cluster: ClusterServers | undefined;
let postgres: PostgresServer | undefined;
const replicas: Runtime[] = [];
const clients: Cluster[] = [];
try {
  cluster = await findCluster();
  postgres = await findPostgres();
  console.log(`engines: ${postgres.description}; Redis Cluster: ${cluster.description}`);
  await demo(cluster, postgres);
} catch (error) {
  if (!(error instanceof CannotRunError)) throw error;
  console.error(`cannot run the cluster recipe: ${error.message}`);
  process.exitCode = 2;
} finally {
  for (const runtime of replicas) await runtime.stop();
  if (cluster !== undefined && !cluster.own && clients[0] !== undefined) await deleteKeys(clients[0]);
  for (const client of clients) client.disconnect();
  await postgres?.close();
  await cluster?.stop();
}

/** On a cluster that is yours: every key this run wrote, on every master. */
async function deleteKeys(client: Cluster): Promise<void> {
  for (const node of client.nodes("master")) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${namespace}*`, "COUNT", 500);
      cursor = next;
      for (const key of keys) await node.del(key);
    } while (cursor !== "0");
  }
}

async function demo(servers: ClusterServers, postgres: PostgresServer): Promise<void> {
  const replica = async (name: string) => {
    // Your own Cluster client; scaleReads must stay "master" (the default): replicas lag, and stratacache refuses it.
    const client = new Cluster(
      servers.seeds.map((s) => ({ ...s })),
      { scaleReads: "master" },
    );
    client.on("error", () => {});
    clients.push(client);
    const runtime = createRuntime({
      modules: [
        postgres.module({ cluster_products: { table: runTable("recipe_cluster_products") } }),
        redisModule({ client, caches: { cluster_products: { namespace, invalidationPush: true } } }),
      ],
    });
    replicas.push(runtime);
    await runtime.start();
    const push = () => runtime.stats().caches.cluster_products!.push;
    await until(
      () => push().state === "armed" && Object.keys(push().nodes ?? {}).length === servers.seeds.length,
      `push on ${name} never armed on every node`,
    );
    return runtime;
  };
  const a = await replica("A");
  const b = await replica("B");
  const push = (runtime: Runtime): PushStats => runtime.stats().caches.cluster_products!.push;
  const nodesLine = (runtime: Runtime) =>
    Object.entries(push(runtime).nodes ?? {})
      .map(([address, n]) => `${address} ${n.role} ${n.state} (${n.invalidations} inv.)`)
      .join("; ");
  console.log(`replicas A and B: push ${push(a).state} on ${Object.keys(push(b).nodes ?? {}).length} nodes each`);
  console.log(`B's subscribers: ${nodesLine(b)}`);

  const docs = a.context().document.command(products);
  const onB = b.context().document.query(products);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await docs.create({ name: `p${i}`, price: i })).id);
  const masterOf = (id: string) => {
    const slot = hashSlot(`${namespace}:${products.fingerprint}:d:{${id}}`);
    return clients[0]!.slots[slot]?.[0] ?? "?";
  };
  await onB.getMany(ids); // fills L2 (one MGET per slot, pipelined per master)
  await until(async () => {
    await onB.getMany(ids); // the fills' own SETs come back as invalidations; L2 hits then stay in L1
    return ids.every((id) => onB.peek(id) !== undefined);
  }, "B's L1 never kept the documents");
  const spread = new Set(ids.map(masterOf));
  console.log(`B: ${ids.length} documents in L1, their entries on ${spread.size} masters (${[...spread].join(", ")})`);

  const writeAndWatch = async (label: string) => {
    const started = performance.now();
    const current = await a.context().document.query(products).getMany(ids);
    for (const doc of current) await docs.update(doc!.id, doc!.rev, { price: doc!.price + 1 });
    await until(() => ids.every((id) => onB.peek(id) === undefined), `${label}: B's L1 kept entries A overwrote`);
    const fresh = await onB.getMany(ids);
    check(
      fresh.every((doc, i) => doc!.rev === current[i]!.rev + 1),
      `${label}: B read an old version after the push`,
    );
    console.log(
      `${label}: A updated ${ids.length} documents; B's L1 dropped all of them and B read every new rev (${(performance.now() - started).toFixed(0)} ms for the whole round)`,
    );
  };
  await writeAndWatch("push across slots");

  if (!servers.own) {
    console.log(
      "failover: skipped (REDIS_CLUSTER_NODES is yours; the recipe fails nodes over only on its own cluster)",
    );
  } else {
    // A replica of the master holding ids[0] takes over (CLUSTER FAILOVER), while B keeps reading.
    const nodes = await servers.cli(servers.seeds[0]!.port, "CLUSTER", "NODES");
    const lines = nodes.split("\n").map((l) => l.split(" "));
    const master = lines.find((f) => f[1]?.startsWith(masterOf(ids[0]!)) && f[2]?.includes("master"));
    const replicaLine = lines.find((f) => f[3] === master?.[0]);
    check(replicaLine !== undefined, "no replica for the failover");
    const replicaPort = Number(replicaLine![1]!.split("@")[0]!.split(":")[1]);
    let reads = 0;
    let failed = 0;
    let reading = true;
    const reader = (async () => {
      while (reading) {
        try {
          await onB.getMany(ids);
          reads++;
        } catch {
          failed++;
        }
        await sleep(1); // L1 hits resolve without I/O: yield, or this loop starves the event loop
      }
    })();
    await servers.cli(replicaPort, "CLUSTER", "FAILOVER");
    await until(
      async () => /role:master/.test(await servers.cli(replicaPort, "INFO", "replication")),
      "the replica never took over",
    );
    await sleep(200);
    reading = false;
    await reader;
    check(failed === 0, `${failed} reads failed during the failover`);
    console.log(
      `failover: node ${replicaPort} is master now; B ran ${reads} getMany(${ids.length}) meanwhile, 0 failed; push ${push(b).state} (${push(b).disarmings} disarmings)`,
    );
    await writeAndWatch("push after the failover");
  }
  // After a failover a node's subscriber may still be re-arming (the roles just swapped): the stats below are read
  // once every node's is armed again, and the recipe fails if that never happens.
  await until(() => {
    const nodes = Object.values(push(b).nodes ?? {});
    return (
      push(b).state === "armed" && nodes.length === servers.seeds.length && nodes.every((n) => n.state === "armed")
    );
  }, "B's push never re-armed on every node");
  const stats = push(b);
  console.log(
    `B's push stats: state ${stats.state}, armings ${stats.armings}, disarmings ${stats.disarmings}, invalidations ${stats.invalidations}, dropped ${stats.dropped}`,
  );
  console.log(`B's subscribers: ${nodesLine(b)}`);
  const l1 = onB.stats().l1;
  console.log(`B's L1: ${l1?.hits} hits, ${l1?.misses} misses`);
}

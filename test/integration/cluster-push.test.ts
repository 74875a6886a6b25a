/**
 * Push invalidation and L2 reads on a real 3-master + 3-replica Redis Cluster (one per file, spawned on loopback):
 * a subscriber per node; writes on A drop B's L1 for ids on every master; out-of-band writes on any master too;
 * getMany across slots; a randomized staleness run; CLUSTER FAILOVER, SIGKILL of a master and a reshard under load.
 */
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { hashSlot } from "../../src/l2/redis/hash-slot.js";
import {
  clusterClient,
  newNamespace,
  stalenessLoad,
  startClientRuntime,
  waitSettled,
} from "../support/cluster-runtime.js";
import { waitUntil } from "../support/eventually.js";
import { peekRev, pushProducts, pushStats, waitForState, warm } from "../support/push-runtime.js";
import { type RedisCluster, startRedisCluster } from "../support/redis-cluster.js";
import { integrationEnv } from "../support/services.js";
import { entryKey } from "../support/strata.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

/** Staleness bound the tests hold push to: far above loopback push lag, far below l1.ttl (1 min). */
const WINDOW_MS = 100;

describe.skipIf(env.skip)("push invalidation on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let clientA: Cluster;
  let clientB: Cluster;
  let raw: Cluster;
  let a: Runtime;
  let b: Runtime;
  const namespace = newNamespace("cl");
  const ids: string[] = [];

  /** The port of the master serving `key`'s slot right now. */
  const ownerOf = async (key: string): Promise<number> => {
    const slot = hashSlot(key);
    const owner = (await cluster.nodes()).find(
      (n) => n.role === "master" && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (owner === undefined) throw new Error(`no master serves slot ${slot}`);
    return owner.port;
  };
  const key = (id: string) => entryKey(namespace, pushProducts, id);

  beforeAll(async () => {
    cluster = await startRedisCluster();
    clientA = clusterClient(cluster.seeds);
    clientB = clusterClient(cluster.seeds);
    raw = clusterClient(cluster.seeds);
    a = await startClientRuntime({ databaseUrl: env.postgres!.url, namespace, client: clientA });
    b = await startClientRuntime({ databaseUrl: env.postgres!.url, namespace, client: clientB });
    const docs = a.context().document.command(pushProducts);
    for (let i = 0; i < 24; i++) ids.push((await docs.create({ name: `c${i}`, price: i })).id);
  }, 90_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    for (const client of [clientA, clientB, raw]) client?.disconnect();
    await cluster?.stop();
  });

  it("arms with one subscriber per node (3 masters, 3 replicas), shown per node in stats", async () => {
    for (const runtime of [a, b]) {
      // The client learns the replicas over a refresh or two: wait for the whole set, then check it.
      await waitUntil(
        () => pushStats(runtime).state === "armed" && Object.keys(pushStats(runtime).nodes ?? {}).length === 6,
        { timeoutMs: 5_000, intervalMs: 10, message: "push never armed on all 6 nodes" },
      );
      const nodes = Object.values(pushStats(runtime).nodes ?? {});
      expect(nodes.every((n) => n.state === "armed")).toBe(true);
      expect(nodes.filter((n) => n.role === "master")).toHaveLength(3);
    }
  });

  it("a write on A drops B's L1 entry for ids on every master; B reads the new rev", async () => {
    const owners = new Set(await Promise.all(ids.map((id) => ownerOf(key(id)))));
    expect(owners.size).toBe(3);
    for (const id of ids) await warm(b, pushProducts, id);
    const docs = a.context().document.command(pushProducts);
    const revs = new Map<string, number>();
    for (const id of ids) {
      const current = (await a.context().document.query(pushProducts).get(id)).rev;
      revs.set(id, (await docs.update(id, current, { price: 1_000 })).rev);
    }
    await waitUntil(() => ids.every((id) => peekRev(b, pushProducts, id) === undefined), {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "B's L1 kept entries A overwrote",
    });
    const query = b.context().document.query(pushProducts);
    for (const id of ids) expect((await query.get(id)).rev).toBe(revs.get(id));
    // Every master delivered some of them (a replica delivers its master's writes too).
    const byNode = pushStats(b).nodes ?? {};
    const masters = Object.values(byNode).filter((n) => n.role === "master");
    expect(masters.every((n) => n.invalidations > 0)).toBe(true);
  });

  it("an out-of-band DEL on each master drops B's L1 entry", async () => {
    for (const id of ids) await warm(b, pushProducts, id);
    await Promise.all(ids.map((id) => raw.del(key(id))));
    await waitUntil(() => ids.every((id) => peekRev(b, pushProducts, id) === undefined), {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "out-of-band deletes did not reach B's L1",
    });
  });

  it("getMany across every slot: one answer per id, in order, from L2", async () => {
    const many = b.context().document.query(pushProducts);
    const first = await many.getMany(ids);
    expect(first.map((d) => d?.id)).toEqual(ids);
    const again = await many.getMany([...ids].reverse());
    expect(again.map((d) => d?.id)).toEqual([...ids].reverse());
  });

  it("getMany with a stale slot table (a slot pointed at the wrong master): the MOVED slots are re-read", async () => {
    const query = b.context().document.query(pushProducts);
    await query.getMany(ids); // fills L2 and the slot table
    await b.settled();
    const docs = a.context().document.command(pushProducts);
    const clean = await b.context().document.query(pushProducts).getMany(ids);
    // L1 must not answer: drop it by writing each id once more through A (push empties B's L1).
    for (const doc of clean) await docs.update(doc!.id, doc!.rev, { price: 3 });
    await waitUntil(() => ids.every((id) => peekRev(b, pushProducts, id) === undefined), {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "B's L1 kept entries",
    });
    const slots = clientB.slots;
    const masters = [...new Set(ids.map((id) => slots[hashSlot(key(id))]![0]!))];
    expect(masters.length).toBeGreaterThan(1);
    // Point every slot of our ids at one master: the pipeline to it gets MOVED for the others.
    const saved = ids.map((id) => [hashSlot(key(id)), [...slots[hashSlot(key(id))]!]] as const);
    for (const [slot] of saved) slots[slot] = [masters[0]!];
    const { hits: l2Before, errors: errorsBefore } = query.stats().l2;
    try {
      const again = await query.getMany(ids);
      expect(again.map((d) => d?.rev)).toEqual(clean.map((d) => d!.rev + 1));
      expect(query.stats().l2.hits - l2Before).toBe(ids.length);
      expect(query.stats().l2.errors).toBe(errorsBefore);
    } finally {
      for (const [slot, owners] of saved) slots[slot] = [...owners];
    }
  });

  it("randomized: every B read that starts 100 ms after A's write resolved sees it", async () => {
    for (const id of ids) await warm(b, pushProducts, id);
    const result = await stalenessLoad({ writer: a, reader: b, ids, durationMs: 2_000, windowMs: WINDOW_MS });
    expect(result.writes).toBeGreaterThan(20);
    expect(result.reads).toBeGreaterThan(300);
    expect(result.failedReads).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(b.context().document.query(pushProducts).stats().l1?.hits).toBeGreaterThan(0);
  });

  it("CLUSTER FAILOVER under load: no failed read, no stale read, push stays armed on the swapped roles", async () => {
    const victim = await ownerOf(key(ids[0]!));
    const topology = await cluster.nodes();
    const replica = topology.find((n) => n.masterId === topology.find((m) => m.port === victim)?.id);
    expect(replica).toBeDefined();
    const result = await stalenessLoad({
      writer: a,
      reader: b,
      ids,
      durationMs: 1_000,
      windowMs: WINDOW_MS,
      during: () => cluster.failover(replica!.port),
    });
    expect(result.failedReads).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.reads).toBeGreaterThan(100);
    await waitForState(b, "armed", 5_000);
    const nodes = pushStats(b).nodes ?? {};
    await waitUntil(() => pushStats(b).nodes?.[`127.0.0.1:${replica!.port}`]?.role === "master", {
      timeoutMs: 5_000,
      message: "the client never saw the promoted replica as master",
    });
    expect(Object.values(nodes).every((n) => n.state === "armed")).toBe(true);
  });

  it("one node's subscriber killed (CLIENT KILL TYPE pubsub): L1 flushed at once, re-armed, invalidations work", async () => {
    const [id, other] = ids as [string, string];
    await waitForState(b, "armed", 5_000);
    await warm(b, pushProducts, id);
    await warm(b, pushProducts, other);
    const owner = await ownerOf(key(id));
    const disarmings = pushStats(b).disarmings;
    await cluster.process(owner).cli("CLIENT", "KILL", "TYPE", "pubsub");
    // Flushed as a whole, not only the killed node's slots: `other` may live on another master.
    await waitUntil(() => peekRev(b, pushProducts, id) === undefined && peekRev(b, pushProducts, other) === undefined, {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "losing one node's subscriber did not flush L1",
    });
    expect(pushStats(b).disarmings).toBeGreaterThan(disarmings);
    await waitForState(b, "armed", 5_000);
    const rev = await warm(b, pushProducts, id);
    await a.context().document.command(pushProducts).update(id, rev, { price: 7 });
    await waitUntil(() => peekRev(b, pushProducts, id) === undefined, {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "the re-armed subscriber delivered nothing",
    });
  });

  it("SIGKILL of a master under load: no failed read, no stale read; re-armed without it, and with it back", async () => {
    const victim = await ownerOf(key(ids[1]!));
    let paused = false;
    const result = await stalenessLoad({
      writer: a,
      reader: b,
      ids,
      durationMs: 1_000,
      windowMs: WINDOW_MS,
      seed: 11,
      paused: () => paused,
      during: async (writerIdle) => {
        // Redis replicates asynchronously: a write acknowledged by a master that dies before its replica got it is
        // lost by Redis itself (see the Cluster section of the README). The writer pauses across the kill only.
        paused = true;
        await writerIdle();
        await cluster.waitReplicated(victim);
        // Writes resume once the master is dead: they then fail over (write-throughs retried) with the reads.
        await cluster.killMaster(victim, () => {
          paused = false;
        });
        await waitUntil(
          () => pushStats(b).state === "armed" && !(`127.0.0.1:${victim}` in (pushStats(b).nodes ?? {})),
          {
            timeoutMs: 10_000,
            intervalMs: 10,
            message: "push never re-armed without the dead master",
          },
        );
      },
    });
    expect(result.failedReads).toEqual([]);
    expect(result.violations).toEqual([]);
    await waitSettled(b, a, ids);
    expect(pushStats(b).lastDisarm).toBeDefined();
    await cluster.revive(victim);
    await waitUntil(
      () => pushStats(b).state === "armed" && pushStats(b).nodes?.[`127.0.0.1:${victim}`]?.state === "armed",
      { timeoutMs: 10_000, intervalMs: 10, message: "push never re-armed with the revived node" },
    );
    for (const id of ids.slice(0, 5)) await warm(b, pushProducts, id);
  });

  it("a reshard of a slot range holding cached ids, under load: no failed read, no stale read, push armed", async () => {
    const SLOTS = 200;
    const topology = await cluster.nodes();
    const masters = topology.filter((n) => n.role === "master" && !n.failed && n.slots.length > 0);
    /** The first SLOTS slots of a master: what `redis-cli --cluster reshard` moves from it. */
    const firstSlots = (port: number) => {
      const slots: number[] = [];
      const node = masters.find((m) => m.port === port)!;
      for (const [from, to] of [...node.slots].sort((x, y) => x[0] - y[0])) {
        for (let slot = from; slot <= to && slots.length < SLOTS; slot++) slots.push(slot);
      }
      return new Set(slots);
    };
    const moving = (port: number) => ids.filter((id) => firstSlots(port).has(hashSlot(key(id))));
    const docs = a.context().document.command(pushProducts);
    let source = masters.reduce((best, m) => (moving(m.port).length > moving(best.port).length ? m : best));
    while (moving(source.port).length === 0) {
      ids.push((await docs.create({ name: "more", price: 0 })).id);
      source = masters.reduce((best, m) => (moving(m.port).length > moving(best.port).length ? m : best));
    }
    const target = masters.find((m) => m.port !== source.port)!;
    const moved = moving(source.port);
    for (const id of ids) await warm(b, pushProducts, id);
    const result = await stalenessLoad({
      writer: a,
      reader: b,
      ids,
      durationMs: 1_000,
      windowMs: WINDOW_MS,
      seed: 13,
      during: () => cluster.reshard(source.port, target.port, SLOTS),
    });
    expect(result.failedReads).toEqual([]);
    expect(result.violations).toEqual([]);
    for (const id of moved) expect(await ownerOf(key(id))).toBe(target.port);
    await waitForState(b, "armed", 5_000);
    await waitSettled(b, a, ids);
  });
});

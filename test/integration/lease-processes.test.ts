/**
 * The fill lease across Node processes sharing Postgres and Redis (one runtime per process, as in production): a
 * stampede of cold reads costs one Postgres read per id in total, whatever the number of processes; a holder that
 * dies mid-fetch delays its waiters by one lease life, not maxWait; a write during a leased fill wins. Reads are
 * counted by each process's Postgres pool (test/support/lease-peer.ts), not by the mechanism's own counters.
 */
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DocumentStats } from "../../src/index.js";
import { idKey, leasePrefix } from "../../src/l2/key-layout.js";
import { waitUntil } from "../support/eventually.js";
import type { LeasePeerOptions } from "../support/lease-peer.js";
import { type Peer, spawnPeer } from "../support/push-peers.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { productSpec } from "../support/strata.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });
const script = join(dirname(fileURLToPath(import.meta.url)), "../support/lease-peer.ts");
/**
 * A short lease life (a dead holder's lease lapses fast) and a long maxWait (a waiter that times out fails a test);
 * both, and the Redis timeout, leave room for a machine so loaded that a process can stall for a second.
 */
const cache = { ttl: "5m", lease: { ttl: "2s", maxWait: "30s" } } as const;
const fingerprint = productSpec(cache).fingerprint;

interface Fetched {
  readonly selects: number;
  readonly ids: Record<string, number>;
}

describe.skipIf(env.skip)("fill lease across processes", () => {
  let redis: RedisProcess;
  let raw: Redis;
  const peers: Peer[] = [];
  /** Eight readers; the last one also holds the leases of the fault tests, and is killed in the last one. */
  let readers: Peer[];
  let holder: Peer;
  let others: Peer[];
  const namespace = `lp:${randomUUID().slice(0, 8)}`;
  const leaseKey = (id: string) => idKey(leasePrefix(`${namespace}:products`, fingerprint), id);

  const spawn = async () => {
    const options: LeasePeerOptions = {
      databaseUrl: env.postgres!.url,
      redisUrl: redis.url,
      namespace,
      cache,
      timeoutMs: 10_000,
    };
    const peer = await spawnPeer(options, 180_000, script); // a loaded machine starts 8 processes slowly
    peers.push(peer);
    return peer;
  };
  /** Document reads every process sent since the last call, per id. */
  const fetched = async (among: ReadonlyArray<Peer> = peers) => {
    const all = await Promise.all(among.map((peer) => peer.call<Fetched>("fetched").catch(() => undefined)));
    const ids = new Map<string, number>();
    for (const one of all) for (const [id, n] of Object.entries(one?.ids ?? {})) ids.set(id, (ids.get(id) ?? 0) + n);
    return ids;
  };
  const leaseStats = async (among: ReadonlyArray<Peer>) =>
    (await Promise.all(among.map((peer) => peer.call<DocumentStats>("stats")))).map((stats) => stats.lease!);
  const create = async (price = 1) => (await readers[0]!.call<{ id: string; rev: number }>("create", { price })).id;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    await spawn(); // alone first: it migrates the table
    await Promise.all(Array.from({ length: 7 }, () => spawn()));
    readers = peers.slice(0, 8);
    holder = readers[7]!;
    others = readers.slice(0, 7);
  }, 400_000);
  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    raw?.disconnect();
    await redis?.stop();
  });

  it("8 processes × 1,000 concurrent gets of one cold id: one Postgres read in total", async () => {
    const id = await create();
    await fetched();
    const seen = await Promise.all(readers.map((peer) => peer.call<number[]>("get", { id, n: 1_000 })));
    expect(seen).toEqual(readers.map(() => [1]));
    expect(Object.fromEntries(await fetched())).toEqual({ [id]: 1 });
    const stats = await leaseStats(readers);
    expect(stats.reduce((sum, s) => sum + s.granted, 0)).toBe(1);
    expect(stats.reduce((sum, s) => sum + s.holderTimeouts + s.fallbacks, 0)).toBe(0);
  }, 60_000);

  it("getMany of 100 cold ids across 8 processes: each id read from Postgres once", async () => {
    const ids = await Promise.all(Array.from({ length: 100 }, () => create(2)));
    await fetched();
    const seen = await Promise.all(
      readers.map((peer) => peer.call<Record<string, number[]>>("getMany", { ids, n: 5 })),
    );
    for (const perId of seen) expect(Object.values(perId)).toEqual(ids.map(() => [1]));
    const reads = await fetched();
    expect([...reads.keys()].sort()).toEqual([...ids].sort());
    expect(new Set(reads.values())).toEqual(new Set([1]));
  }, 60_000);

  it("a write during a leased fill: the fill is refused, waiters get the new version", async () => {
    const id = await create();
    await holder.call("gate", { closed: true });
    const heldBefore = await holder.call<number>("heldRuns");
    const held = holder.call<number[]>("get", { id }); // reads rev 1; the reply is held
    await waitUntil(async () => (await raw.exists(leaseKey(id))) === 1, { timeoutMs: 10_000, message: "no lease" });
    // The holder's SELECT has run (rev 1) before the write below, however slow the machine: its rows wait at the gate.
    await waitUntil(async () => (await holder.call<number>("heldRuns")) > heldBefore, {
      timeoutMs: 10_000,
      message: "the holder never read",
    });
    const waiters = others.slice(1);
    const waiting = Promise.all(waiters.map((peer) => peer.call<number[]>("get", { id, n: 100 })));
    await waitUntil(async () => (await leaseStats(waiters)).every((s) => s.waits > 0), {
      timeoutMs: 20_000,
      message: "readers never waited",
    });
    await others[0]!.call("update", { id, rev: 1, price: 5 }); // commits rev 2; voids the lease
    expect(await waiting).toEqual(waiters.map(() => [2]));
    await holder.call("gate", { closed: false });
    expect(await held).toEqual([1]); // began before the write: its own reader may see rev 1
    const [holderLease] = await leaseStats([holder]);
    expect(holderLease!.lost).toBe(1);
    // L2 keeps rev 2 (the refused fill did not replace it): the next reads are hits, without a Postgres read.
    await fetched();
    expect(await holder.call("get", { id })).toEqual([2]);
    expect((await fetched()).get(id)).toBeUndefined();
  }, 60_000);

  it("the holder SIGKILLed mid-fetch: every waiter is served within a lease life, one more read, no stale value", async () => {
    const id = await create();
    await holder.call("gate", { closed: true });
    void holder.call("get", { id }).catch(() => {});
    await waitUntil(async () => (await raw.exists(leaseKey(id))) === 1, { timeoutMs: 10_000, message: "no lease" });
    await fetched(others);
    const before = await leaseStats(others);
    const waiting = Promise.all(others.map((peer) => peer.call<number[]>("get", { id, n: 100 })));
    await waitUntil(async () => (await leaseStats(others)).every((s, i) => s.waits > before[i]!.waits), {
      timeoutMs: 20_000,
      message: "readers never waited",
    });
    await holder.kill(); // its renewals stop; the lease lapses within 2 s
    expect(await waiting).toEqual(others.map(() => [1]));
    expect(Object.fromEntries(await fetched(others))).toEqual({ [id]: 1 });
    const after = await leaseStats(others);
    const timeouts = after.reduce((sum, s, i) => sum + s.holderTimeouts - before[i]!.holderTimeouts, 0);
    expect(timeouts).toBe(0);
  }, 60_000);
});

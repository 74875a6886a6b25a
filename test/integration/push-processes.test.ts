/**
 * Push invalidation between two Node processes sharing Postgres and Redis (each runtime in its own process, as in
 * production): a write in process A drops process B's L1 entry; deletes too; with push off, B's L1 keeps its copy.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PushStats } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { type Peer, spawnPeer } from "../support/push-peers.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe.skipIf(env.skip)("push invalidation across processes", () => {
  let redis: RedisProcess;
  let a: Peer;
  let b: Peer;
  const peers: Peer[] = [];
  const namespace = `pp:${randomUUID().slice(0, 8)}`;

  const spawn = async (push: boolean, ns = namespace) => {
    const peer = await spawnPeer({ databaseUrl: env.postgres!.url, redisUrl: redis.url, namespace: ns, push });
    peers.push(peer);
    return peer;
  };
  /** Reads on `peer` until the document sits in its L1. */
  const warm = (peer: Peer, id: string) =>
    waitUntil(
      async () => {
        await peer.call("get", { id });
        return (await peer.call("peek", { id })) !== null;
      },
      { timeoutMs: 5_000, intervalMs: 5, message: "never settled in L1" },
    );

  beforeAll(async () => {
    redis = await startRedis();
    // Sequentially: both would migrate the same table.
    a = await spawn(true);
    b = await spawn(true);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    await redis?.stop();
  });

  it("both processes are armed", async () => {
    expect((await b.call<PushStats>("stats")).state).toBe("armed");
  });

  it("an update in process A drops process B's L1 entry; B's next read returns the new rev", async () => {
    const created = await a.call<{ id: string; rev: number }>("create", { name: "x", price: 1 });
    await warm(b, created.id);
    expect(await b.call("peek", { id: created.id })).toBe(1);
    await a.call("update", { id: created.id, rev: created.rev, price: 2 });
    await waitUntil(async () => (await b.call("peek", { id: created.id })) === null, {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "B's L1 still holds rev 1",
    });
    expect(await b.call("get", { id: created.id })).toBe(2);
    expect((await b.call<PushStats>("stats")).dropped).toBeGreaterThan(0);
  });

  it("a delete in process A drops process B's L1 entry", async () => {
    const created = await a.call<{ id: string; rev: number }>("create", { name: "y", price: 1 });
    await warm(b, created.id);
    await a.call("delete", { id: created.id, rev: created.rev });
    await waitUntil(async () => (await b.call("peek", { id: created.id })) === null, {
      timeoutMs: 2_000,
      intervalMs: 2,
      message: "B's L1 still holds the deleted document",
    });
    expect(await b.call("get", { id: created.id })).toBeNull();
  });

  it("with push off in both processes, B's L1 keeps serving the old rev after A's write", async () => {
    const ns = `${namespace}-off`;
    const offA = await spawn(false, ns);
    const offB = await spawn(false, ns);
    const created = await offA.call<{ id: string; rev: number }>("create", { name: "z", price: 1 });
    await warm(offB, created.id);
    await offA.call("update", { id: created.id, rev: created.rev, price: 2 });
    // Give a push every chance to arrive (it would take ~1 ms), then check it did not.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await offB.call("peek", { id: created.id })).toBe(1);
    expect(await offB.call("get", { id: created.id })).toBe(1);
  });
});

/**
 * getOrSet's fill lease across Node processes sharing one Redis (one runtime per process, test/support/
 * kv-lease-peer.ts): concurrent getOrSet of one cold key in four processes run the loader once in total; a holder
 * SIGKILLed mid-loader delays its waiters by one lease life, not maxWait; a `set` during a leased fill voids the
 * lease, so the holder's fill is refused and the waiters get the new value. Loader runs are counted by the peers'
 * loaders, not by the lease's own counters.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheStats } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { KV_LEASE_PEER_SCRIPT, type Peer, spawnPeer } from "../support/push-peers.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ privateRedis: true });

describe.skipIf(env.skip)("getOrSet lease across processes", () => {
  let redis: RedisProcess;
  const peers: Peer[] = [];
  const namespace = `klp:${randomUUID().slice(0, 8)}`;
  const key = () => `k-${randomUUID().slice(0, 8)}`;
  /** Sum over `among` of a figure. */
  const sum = async (among: ReadonlyArray<Peer>, op: string) =>
    (await Promise.all(among.map((peer) => peer.call<number>(op)))).reduce((a, b) => a + b, 0);
  const stats = (among: ReadonlyArray<Peer>) => Promise.all(among.map((peer) => peer.call<CacheStats>("stats")));

  beforeAll(async () => {
    redis = await startRedis();
    const options = {
      redisUrl: redis.url,
      namespace,
      push: true,
      // A short lease life (a dead holder's lapses fast), a long maxWait (a waiter that times out fails the test).
      lease: { ttl: "1s", maxWait: "60s" },
      loaderMs: 20,
    };
    peers.push(
      ...(await Promise.all(Array.from({ length: 4 }, () => spawnPeer(options, 60_000, KV_LEASE_PEER_SCRIPT)))),
    );
  }, 90_000);
  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    await redis?.stop();
  });

  it("four processes × 25 concurrent getOrSet of one cold key: the loader runs once in total", async () => {
    const k = key();
    await Promise.all(peers.map((peer) => peer.call("loads")));
    // Gated loaders: every process is inside getOrSet (holding the lease, or waiting) before any loader may end.
    const calls = peers.map((peer) => peer.call<string[]>("getOrSet", { key: k, n: 25, label: "v", gated: true }));
    await waitUntil(
      async () => {
        const all = await stats(peers);
        return all.every((s) => (s.lease?.granted ?? 0) + (s.lease?.waits ?? 0) >= 1);
      },
      { timeoutMs: 30_000 },
    );
    expect(await sum(peers, "started")).toBe(1);
    await Promise.all(peers.map((peer) => peer.call("open")));
    for (const values of await Promise.all(calls)) expect(values).toEqual(Array(25).fill("v"));
    expect(await sum(peers, "loads")).toBe(1);
    const leases = (await stats(peers)).map((s) => s.lease!);
    expect(leases.reduce((n, l) => n + l.granted, 0)).toBe(1);
    expect(leases.reduce((n, l) => n + l.holderTimeouts + l.fallbacks, 0)).toBe(0);
  }, 40_000);

  it("a set during a leased fill voids the lease: the fill is refused, waiters get the new value", async () => {
    const k = key();
    const [holder, writer, ...waiters] = peers as [Peer, Peer, Peer, Peer];
    const started = await holder.call<number>("started");
    const held = holder.call<string[]>("getOrSet", { key: k, label: "old", gated: true });
    await waitUntil(async () => (await holder.call<number>("started")) > started, { timeoutMs: 30_000 });
    const before = await Promise.all(waiters.map((peer) => peer.call<CacheStats>("stats")));
    const waiting = waiters.map((peer) => peer.call<string[]>("getOrSet", { key: k, n: 10, label: "waiter" }));
    await waitUntil(
      async () => {
        const now = await stats(waiters);
        return now.every((s, i) => s.lease!.waits > before[i]!.lease!.waits);
      },
      { timeoutMs: 30_000 },
    );
    await writer.call("set", { key: k, value: "new" });
    for (const values of await Promise.all(waiting)) expect(values).toEqual(Array(10).fill("new"));
    await holder.call("open");
    expect(await held).toEqual(["old"]); // the holder returns what it loaded; its fill does not land
    expect((await holder.call<CacheStats>("stats")).lease!.lost).toBeGreaterThanOrEqual(1);
    for (const peer of peers) expect(await peer.call("get", { key: k })).toBe("new");
  }, 40_000);

  it("the holder is SIGKILLed mid-loader: its waiters finish within one lease life, one of them loads", async () => {
    const k = key();
    const holder = peers[3]!;
    const waiters = peers.slice(0, 3);
    await Promise.all(waiters.map((peer) => peer.call("loads")));
    const started = await holder.call<number>("started");
    holder.call("getOrSet", { key: k, label: "dead", gated: true }).catch(() => {}); // never answers
    await waitUntil(async () => (await holder.call<number>("started")) > started, { timeoutMs: 30_000 });
    const before = await stats(waiters);
    const waiting = waiters.map((peer) => peer.call<string[]>("getOrSet", { key: k, n: 10, label: "alive" }));
    await waitUntil(
      async () => {
        const now = await stats(waiters);
        return now.every((s, i) => s.lease!.waits > before[i]!.lease!.waits);
      },
      { timeoutMs: 30_000 },
    );
    await holder.kill();
    // maxWait is 60 s and the test's timeout 30 s: finishing at all means the dead holder's lease lapsed and a
    // waiter took it (no timeout, no fallback).
    for (const values of await Promise.all(waiting)) expect(values).toEqual(Array(10).fill("alive"));
    expect(await sum(waiters, "loads")).toBe(1);
    const after = await stats(waiters);
    expect(after.reduce((n, s, i) => n + s.lease!.holderTimeouts - before[i]!.lease!.holderTimeouts, 0)).toBe(0);
  }, 30_000);
});

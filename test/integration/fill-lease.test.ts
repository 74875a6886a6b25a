/**
 * The fill lease inside one test process, over real Postgres and Redis: runtimes on the same servers stand in for
 * replicas. A holder's Postgres reply is held at a TCP proxy, so "another process is filling" is a fact, not a race.
 * Waiters are bounded with push off (polling) and on (woken by the fill's invalidation); a holder that never fills
 * leaves waiters grace data or a capped read of their own; a write voids the lease at once; XFetch takes the lease
 * try-only; a lease key planted without expiry cannot wedge an id; Redis down changes nothing for readers.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { CacheSpecInput, DocumentStats, Runtime } from "../../src/index.js";
import { idKey, leasePrefix } from "../../src/l2/key-layout.js";
import { waitUntil } from "../support/eventually.js";
import { integrationEnv } from "../support/services.js";
import { FetchCostClock, ManualClock, productSpec, QueryCounter } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });

describe.skipIf(env.skip)("fill lease", () => {
  const systems: System[] = [];
  afterEach(async () => {
    await Promise.all(systems.splice(0).map((system) => system.stop()));
  });

  /**
   * A holder runtime whose Postgres link runs through the proxy, and a waiter runtime beside it (direct), both
   * counting their statements.
   */
  async function pair(cache: CacheSpecInput, options: { push?: boolean; clock?: ManualClock } = {}) {
    const spec = productSpec(cache);
    const holderReads = new QueryCounter();
    const waiterReads = new QueryCounter();
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      proxy: undefined,
      onQuery: holderReads.onQuery,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.push ? { push: true } : {}),
    });
    systems.push(system);
    const proxied = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      proxy: "postgres",
      namespace: system.namespace,
      onQuery: holderReads.onQuery,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.push ? { push: true } : {}),
    });
    systems.push(proxied);
    const waiter = await system.startPeer({ onQuery: waiterReads.onQuery });
    const leaseKey = (id: string) => idKey(leasePrefix(`${system.namespace}:products`, spec.fingerprint), id);
    const holder = proxied.runtime;
    const query = (runtime: Runtime) => runtime.context().document.query(spec);
    /** The holder leases `id` and reads it from Postgres; the reply is held until `release()`. */
    const holdFetch = async (id: string) => {
      // Warm the holder's pool (its SELECT goes over this connection), bypassing the cache: no lease taken.
      await query(holder).find(randomUUID(), { skipCache: true });
      proxied.proxy!.holdReplies();
      const read = query(holder).get(id);
      await waitUntil(() => proxied.proxy!.heldReplies > 0, { timeoutMs: 5_000, intervalMs: 2 });
      expect(await system.raw().exists(leaseKey(id))).toBe(1);
      return { read, release: () => proxied.proxy!.releaseReplies() };
    };
    const create = async () =>
      (await system.runtime.context().document.command(spec).create({ name: "x", price: 1 })).id;
    const stats = (runtime: Runtime): DocumentStats => query(runtime).stats();
    return { system, spec, holder, waiter, waiterReads, holderReads, leaseKey, holdFetch, query, create, stats };
  }

  it.each([
    ["off (polling)", false],
    ["on (woken by the fill's invalidation)", true],
  ])("push %s: a waiter gets the holder's fill, without a Postgres read of its own", async (_, push) => {
    const t = await pair({ lease: { maxWait: "30s" } }, { push });
    const id = await t.create();
    const held = await t.holdFetch(id);
    t.waiterReads.reset();
    const waiting = t.query(t.waiter).get(id);
    await waitUntil(() => t.stats(t.waiter).lease!.waits === 1, { timeoutMs: 5_000, intervalMs: 2 });
    held.release();
    expect((await waiting).rev).toBe(1);
    expect((await held.read).rev).toBe(1);
    expect(t.waiterReads.selects).toBe(0);
    expect(t.stats(t.waiter).lease).toMatchObject({ granted: 0, waits: 1, holderTimeouts: 0, fallbacks: 0 });
    expect(t.stats(t.holder).lease).toMatchObject({ granted: 1, lost: 0 });
    expect(await t.system.raw().exists(t.leaseKey(id))).toBe(0); // the fill dropped the lease
  });

  it("an id with no row: the holder's absent marker answers its waiters, without a Postgres read of theirs", async () => {
    const t = await pair({ lease: { maxWait: "30s", ttl: "30s" } }, { push: false });
    const id = randomUUID(); // never created
    const held = await t.holdFetch(id);
    held.read.catch(() => {});
    t.waiterReads.reset();
    const waiting = [t.query(t.waiter).find(id), t.query(t.waiter).findMany([id])];
    await waitUntil(() => t.stats(t.waiter).lease!.waits >= 1, { timeoutMs: 5_000, intervalMs: 2 });
    held.release();
    await held.read.catch(() => {});
    const [one, many] = await Promise.all(waiting);
    expect(one).toBeUndefined();
    expect(many).toEqual([undefined]);
    expect(t.waiterReads.selects).toBe(0);
    expect(t.stats(t.waiter).lease).toMatchObject({ granted: 0, holderTimeouts: 0, fallbacks: 0 });
  });

  it("a holder that never fills: after maxWait the waiter reads Postgres itself (counted), and nothing breaks", async () => {
    const t = await pair({ lease: { maxWait: "50ms", ttl: "30s" } });
    const id = await t.create();
    const held = await t.holdFetch(id);
    t.waiterReads.reset();
    expect((await t.query(t.waiter).get(id)).rev).toBe(1);
    expect(t.waiterReads.selects).toBe(1);
    expect(t.stats(t.waiter).lease).toMatchObject({ waits: 1, holderTimeouts: 1, fallbacks: 1, graceServes: 0 });
    held.release();
    await held.read;
  });

  it("a holder that never fills a stale entry: after maxWait the waiter serves it within grace, no read", async () => {
    const clock = new ManualClock(Date.now());
    const t = await pair({ ttl: "1m", grace: "1h", lease: { maxWait: "50ms", ttl: "30s" } }, { clock });
    const id = await t.create();
    await t.query(t.waiter).get(id); // fills rev 1
    await t.system.runtime.context().document.command(t.spec).update(id, 1, { price: 2 }); // writes rev 2 through
    clock.advance(61_000); // rev 2 is stale, within grace
    const held = await t.holdFetch(id);
    t.waiterReads.reset();
    expect((await t.query(t.waiter).get(id)).rev).toBe(2);
    expect(t.waiterReads.selects).toBe(0);
    expect(t.stats(t.waiter).lease).toMatchObject({ holderTimeouts: 1, graceServes: 1, fallbacks: 0 });
    held.release();
    await held.read;
  });

  it("a write voids the lease at once: the next reader leases and reads the new version", async () => {
    const t = await pair({ lease: { maxWait: "30s" } });
    const id = await t.create();
    const held = await t.holdFetch(id);
    await t.query(t.waiter).find(randomUUID()); // the waiter's runtime resolves the spec before writing
    await t.waiter.context().document.command(t.spec).update(id, 1, { price: 9 });
    expect(await t.system.raw().exists(t.leaseKey(id))).toBe(0);
    held.release();
    expect((await held.read).rev).toBe(1); // its fill is refused: the lease is gone
    await t.holder.settled(); // the fill lands (here: is refused) behind the read
    expect(t.stats(t.holder).lease!.lost).toBe(1);
    expect((await t.query(t.waiter).get(id)).rev).toBe(2);
  });

  it("a lease key planted without expiry cannot wedge an id", async () => {
    const t = await pair({ lease: { maxWait: "30s" } });
    const id = await t.create();
    await t.system.raw().set(t.leaseKey(id), "planted");
    t.waiterReads.reset();
    expect((await t.query(t.waiter).get(id)).rev).toBe(1);
    expect(t.waiterReads.selects).toBe(1);
    expect(t.stats(t.waiter).lease).toMatchObject({ granted: 1, waits: 0 });
  });

  it("XFetch takes the lease try-only: while another process holds it, the elected reader serves the entry", async () => {
    const clock = new FetchCostClock(Date.now(), 1_000);
    clock.fixedRandom = 0.999;
    const spec = productSpec({ ttl: "1m", earlyRefresh: { beta: 1 }, lease: true });
    const reads = new QueryCounter();
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      clock,
      onQuery: (sql) => {
        reads.onQuery(sql);
        clock.onQuery(sql);
      },
    });
    systems.push(system);
    const query = system.runtime.context().document.query(spec);
    const id = (await system.runtime.context().document.command(spec).create({ name: "x", price: 1 })).id;
    await query.get(id);
    const leaseKey = idKey(leasePrefix(`${system.namespace}:products`, spec.fingerprint), id);
    await system.raw().set(leaseKey, "another-process", "PX", 60_000);
    clock.fixedRandom = 1e-300; // every hit is elected to refresh inline
    reads.reset();
    expect((await query.get(id)).rev).toBe(1);
    expect(reads.selects).toBe(0);
    expect(query.stats().lease).toMatchObject({ refreshesSkipped: 1 });
    await system.raw().del(leaseKey);
    expect((await query.get(id)).rev).toBe(1);
    expect(reads.selects).toBe(1); // won the lease: refreshed
  });

  it("Redis down: leased reads fall back to Postgres as without a lease", async () => {
    const spec = productSpec({ lease: true });
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      proxy: "redis",
      redisTimeoutMs: 200,
    });
    systems.push(system);
    const query = system.runtime.context().document.query(spec);
    const id = (await system.runtime.context().document.command(spec).create({ name: "x", price: 1 })).id;
    system.proxy!.cut();
    expect((await query.get(id)).rev).toBe(1);
    expect((await query.getMany([id])).map((doc) => doc.rev)).toEqual([1]);
    expect(query.stats().l2.errors).toBeGreaterThan(0);
    system.proxy!.restore();
  });
});

/**
 * Change capture under faults (invariant 7: every committed write is seen, whoever made it and whatever happened to
 * the writer): a writer SIGKILLed after COMMIT and before its write-through; a COMMIT whose reply never reaches the
 * writer; Redis unresponsive while changes arrive; a relay killed mid-batch (the same SIGKILL); the doorbell waking a relay whose poll
 * is an hour away. Runtimes A (Postgres behind a proxy) and B have L1 and push and run no relay; each test starts
 * the relays it needs.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { captureStats, rawClient, seenEverywhere } from "../support/capture.js";
import { waitUntil } from "../support/eventually.js";
import { spawnPeer } from "../support/push-peers.js";
import { FAST_TIMING, peekRev, pushProducts, warm } from "../support/push-runtime.js";
import type { RedisProcess } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";
import { createProxy, proxiedUrl } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe.skipIf(env.skip)("change capture under faults", () => {
  let system: System;
  let redis: RedisProcess;
  let a: Runtime;
  let b: Runtime;
  let sql: pg.Client;
  const revInPostgres = async (id: string) =>
    Number((await sql.query("SELECT rev FROM products WHERE id = $1", [id])).rows[0]?.rev ?? 0);
  const create = async (price = 1) =>
    (
      await b
        .context()
        .document.command(pushProducts)
        .create({ name: `f-${randomUUID().slice(0, 6)}`, price })
    ).id;
  const warmBoth = async (id: string) => {
    await warm(a, pushProducts, id);
    await warm(b, pushProducts, id);
  };
  const outboxRows = async () =>
    Number((await sql.query("SELECT count(*)::int AS n FROM stratacache_outbox")).rows[0].n);
  /** Rows a relay holds in an open claim (present, but locked). */
  const claimedRows = async () => {
    const { rows } = await sql.query(
      `SELECT (SELECT count(*) FROM stratacache_outbox)::int
            - (SELECT count(*) FROM (SELECT 1 FROM stratacache_outbox FOR UPDATE SKIP LOCKED) s)::int AS n`,
    );
    return Number(rows[0].n);
  };
  const startRelay = (relay: Record<string, unknown> = {}) =>
    system.startPeer({ changeRelay: { pollInterval: 20, ...relay } });

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      proxy: "postgres",
      push: FAST_TIMING,
      changeCapture: "outbox",
      changeRelay: { enabled: false },
      specs: [pushProducts],
      queryTimeoutMs: 1_000,
    });
    redis = system.redisServer!;
    a = system.runtime;
    b = await system.startPeer();
    sql = await rawClient(env.postgres!.url);
  });
  afterAll(async () => {
    await sql?.end();
    await system?.stop();
  });

  it("a process SIGKILLed after COMMIT, its write-through and its relay's claim in flight: every replica sees it", async () => {
    // One child process writes and relays through a Redis proxy that goes silent: its write-through hangs, and so
    // does its relay's batch (the outbox row stays claimed). Killed then, it leaves both undone.
    const proxy = await createProxy({ host: redis.host, port: redis.port });
    const child = await spawnPeer({
      databaseUrl: env.postgres!.url,
      namespace: system.namespace,
      redisUrl: proxiedUrl(redis.url, proxy),
      changeCapture: "outbox",
      changeRelay: { pollInterval: 20, applyTimeout: "1m" },
    });
    try {
      const { id } = await child.call<{ id: string }>("create", { name: "crash", price: 1 });
      await warmBoth(id);
      await waitUntil(async () => (await outboxRows()) === 0, {
        intervalMs: 5,
        message: "the create was never relayed",
      });
      proxy.blackhole();
      void child.call("update", { id, rev: 1, price: 2 }).catch(() => {});
      await waitUntil(async () => (await revInPostgres(id)) === 2 && (await claimedRows()) === 1, {
        intervalMs: 5,
        message: "never committed and claimed",
      });
      await child.kill();
      const relay = await startRelay();
      await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 2);
      expect(captureStats(relay).applied).toBeGreaterThanOrEqual(1);
      // The writer restarted: a fresh runtime on the same servers reads the commit.
      const restarted = await system.startPeer();
      expect((await restarted.context().document.query(pushProducts).get(id)).rev).toBe(2);
      await relay.stop();
      await restarted.stop();
    } finally {
      await child.kill();
      await proxy.close();
    }
  });

  it("a COMMIT whose reply never reaches the writer: update() throws, every replica still sees the commit", async () => {
    const relay = await startRelay();
    try {
      const id = await create();
      await warmBoth(id);
      system.proxy!.holdReplies(); // A's statements still run and commit; A never hears back
      await expect(a.context().document.command(pushProducts).update(id, 1, { price: 2 })).rejects.toThrow();
      expect(await revInPostgres(id)).toBe(2);
      await seenEverywhere([b], pushProducts, id, (rev) => rev === 2);
      await waitUntil(() => peekRev(a, pushProducts, id) === undefined, { intervalMs: 5, message: "A kept rev 1" });
    } finally {
      system.proxy!.releaseReplies();
      await relay.stop();
    }
  });

  it("Redis unresponsive while changes arrive: the batch fails, stays in the outbox, and lands once Redis answers", async () => {
    const relay = await startRelay({ applyTimeout: 300 });
    try {
      const id = await create();
      await warm(b, pushProducts, id);
      await waitUntil(async () => (await outboxRows()) === 0, { intervalMs: 5 });
      await redis.pause();
      try {
        await sql.query(`UPDATE products SET data = data || '{"price": 3}' WHERE id = $1`, [id]);
        await waitUntil(() => captureStats(relay).failed > 0 && captureStats(relay).relay === "failing", {
          intervalMs: 5,
          message: "the relay never failed",
        });
        expect(await outboxRows()).toBe(1);
      } finally {
        await redis.resume();
      }
      await waitUntil(() => captureStats(relay).relay === "running" && captureStats(relay).depth === 0, {
        intervalMs: 5,
        message: "the relay never caught up",
      });
      await seenEverywhere([b, relay], pushProducts, id, (rev) => rev === 2);
    } finally {
      await relay.stop();
    }
  });

  it("the doorbell wakes a relay at once although its next poll is an hour away", async () => {
    const relay = await startRelay({ pollInterval: "1h" });
    try {
      const id = await create();
      await warm(b, pushProducts, id);
      await waitUntil(() => captureStats(relay).relay === "running", { intervalMs: 5 });
      await sql.query(`UPDATE products SET data = data || '{"price": 5}' WHERE id = $1`, [id]);
      await sql.query("SELECT pg_notify('stratacache_outbox', '')");
      await seenEverywhere([b], pushProducts, id, (rev) => rev === 2);
      expect(captureStats(relay)).toMatchObject({ polls: 0 });
      expect(captureStats(relay).doorbells).toBeGreaterThanOrEqual(1);
    } finally {
      await relay.stop();
    }
  });
});

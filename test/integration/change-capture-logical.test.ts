/**
 * Change capture by logical replication (`changeCapture: "logical"`), on a private Postgres started for this file
 * with `wal_level=logical`: out-of-band writes (UPDATE without a rev bump, DELETE, re-INSERT, a multi-row
 * transaction, TRUNCATE; a rollback changes nothing) reach two runtimes' L1 and L2 through the slot; one consumer
 * per slot with the other standing by and taking over; changes made while no consumer runs are delivered after a
 * restart (no loss, no skip), also after the walsender is killed (the relay's health degraded, then ok); a slot invalidated by `max_slot_wal_keep_size`
 * flushes the captured caches and is recreated.
 */
import { randomUUID } from "node:crypto";
import diagnostics_channel from "node:diagnostics_channel";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthEvent, Runtime } from "../../src/index.js";
import { STRATACACHE_CHANNELS } from "../../src/index.js";
import { captureStats, rawClient, seenEverywhere } from "../support/capture.js";
import { waitUntil } from "../support/eventually.js";
import { type PrivatePostgres, startPrivatePostgres } from "../support/private-postgres.js";
import { FAST_TIMING, peekRev, pushProducts, warm } from "../support/push-runtime.js";
import { redisServerVersion } from "../support/redis.js";
import { buildSystem, type System } from "../support/system.js";

const canRun = (await redisServerVersion()) !== undefined;

describe.skipIf(!canRun)("change capture: logical replication", () => {
  let server: PrivatePostgres;
  let system: System;
  let a: Runtime;
  let b: Runtime;
  let sql: pg.Client;
  const relay = (pollInterval = 50) => system.startPeer({ changeRelay: { pollInterval } });
  const create = async (price = 1) =>
    (
      await a
        .context()
        .document.command(pushProducts)
        .create({ name: `l-${randomUUID().slice(0, 6)}`, price })
    ).id;
  const warmBoth = async (id: string) => {
    await warm(a, pushProducts, id);
    await warm(b, pushProducts, id);
  };
  const running = (runtime: Runtime) =>
    waitUntil(() => captureStats(runtime).relay === "running", { intervalMs: 5, message: "never consumed the slot" });

  beforeAll(async () => {
    const started = await startPrivatePostgres({ wal_level: "logical", max_slot_wal_keep_size: "1MB" });
    if (started === undefined) throw new Error("no Postgres binaries for a private server");
    server = started;
    system = await buildSystem({
      postgres: server.url,
      redis: "private",
      push: FAST_TIMING,
      changeCapture: "logical",
      changeRelay: { enabled: false },
      specs: [pushProducts],
    });
    a = system.runtime;
    b = await system.startPeer();
    sql = await rawClient(server.url);
  }, 60_000);
  afterAll(async () => {
    await sql?.end();
    await system?.stop();
    await server?.stop();
  });

  it("out-of-band writes reach both runtimes through the slot; a rollback changes nothing", async () => {
    const r = await relay();
    try {
      await running(r);
      const [x, y, z] = [await create(), await create(), await create()];
      for (const id of [x, y, z]) await warmBoth(id);
      await sql.query(`UPDATE products SET data = data || '{"price": 2}' WHERE id = $1`, [x]); // no rev bump
      await seenEverywhere([a, b], pushProducts, x!, (rev) => rev === 2);
      await sql.query("BEGIN");
      await sql.query(`UPDATE products SET data = data || '{"price": 3}' WHERE id = ANY($1::uuid[])`, [[y, z]]);
      await sql.query("COMMIT");
      await seenEverywhere([a, b], pushProducts, y!, (rev) => rev === 2);
      await seenEverywhere([a, b], pushProducts, z!, (rev) => rev === 2);
      await sql.query("DELETE FROM products WHERE id = $1", [x]);
      await seenEverywhere([a, b], pushProducts, x!, (rev) => rev === undefined);
      await sql.query(`INSERT INTO products (id, rev, data) VALUES ($1, 1, '{"name": "again", "price": 4}')`, [x]);
      await seenEverywhere([a, b], pushProducts, x!, (rev) => rev === 1);
      await warmBoth(y!);
      await sql.query("BEGIN");
      await sql.query(`UPDATE products SET data = data || '{"price": 9}' WHERE id = $1`, [y]);
      await sql.query("ROLLBACK");
      const applied = captureStats(r).applied + captureStats(r).duplicates;
      await sql.query(`UPDATE products SET data = data || '{"price": 5}' WHERE id = $1`, [z]); // a marker after it
      await seenEverywhere([a, b], pushProducts, z!, (rev) => rev === 3);
      expect(captureStats(r).applied + captureStats(r).duplicates).toBe(applied + 1);
      expect(peekRev(b, pushProducts, y!)).toBe(2);
      await sql.query("TRUNCATE products");
      for (const id of [x, y, z]) await seenEverywhere([a, b], pushProducts, id!, (rev) => rev === undefined);
      expect(captureStats(r)).toMatchObject({ mode: "logical", relay: "running", failed: 0 });
      expect(captureStats(r).slot?.confirmedLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    } finally {
      await r.stop();
    }
  });

  it("one consumer per slot: a second relay stands by and takes over; changes made meanwhile are not skipped", async () => {
    const first = await relay();
    const second = await relay();
    await running(first);
    await waitUntil(() => captureStats(second).relay === "standby", { intervalMs: 5, message: "no standby" });
    const id = await create();
    await warmBoth(id);
    await first.stop(); // the consumer goes away; changes pile up in the slot
    await sql.query(`UPDATE products SET data = data || '{"price": 6}' WHERE id = $1`, [id]);
    await sql.query(`UPDATE products SET data = data || '{"price": 7}' WHERE id = $1`, [id]);
    await running(second);
    await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 3);
    expect(second.health().dependencies["change-capture"]?.state).toBe("ok"); // standing by, then running
    // The walsender killed under the consumer: it reconnects and resumes from the slot; its health says so.
    const transitions: HealthEvent[] = [];
    const onHealth = (event: unknown) => {
      if ((event as HealthEvent).dependency === "change-capture") transitions.push(event as HealthEvent);
    };
    diagnostics_channel.subscribe(STRATACACHE_CHANNELS.health, onHealth);
    try {
      await sql.query("SELECT pg_terminate_backend(pid) FROM pg_stat_replication");
      await sql.query(`UPDATE products SET data = data || '{"price": 8}' WHERE id = $1`, [id]);
      await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 4);
      await waitUntil(() => transitions.at(-1)?.state === "ok", {
        intervalMs: 5,
        message: "the relay never recovered",
      });
    } finally {
      diagnostics_channel.unsubscribe(STRATACACHE_CHANNELS.health, onHealth);
    }
    expect(transitions[0]).toMatchObject({ state: "degraded" });
    expect(transitions[0]?.reason).toMatch(/^replication slot \S+: consumer failed \(.+\)$/);
    expect(second.health().dependencies["change-capture"]?.state).toBe("ok");
    await second.stop();
  });

  it("a slot invalidated by max_slot_wal_keep_size: the captured caches are flushed and the slot recreated", async () => {
    const id = await create();
    await warmBoth(id);
    // No consumer runs: push WAL past the 1MB the slot may hold back, then checkpoint, which invalidates it.
    await sql.query("CREATE TABLE IF NOT EXISTS filler (x text)");
    for (let i = 0; i < 3; i++) {
      await sql.query("INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)");
      await sql.query("SELECT pg_switch_wal()");
    }
    await sql.query("CHECKPOINT");
    const status = await sql.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'stratacache'");
    expect(status.rows[0]?.wal_status).toBe("lost");
    // A write lost with the slot: only the flush can make it visible.
    await sql.query(`UPDATE products SET data = data || '{"price": 9}' WHERE id = $1`, [id]);
    const r = await relay();
    try {
      await waitUntil(() => captureStats(r).slot?.recreated === 1, { intervalMs: 5, message: "slot not recreated" });
      await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 2);
      expect(captureStats(r).flushes).toBeGreaterThanOrEqual(1);
      await running(r);
      const after = await sql.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'stratacache'");
      expect(after.rows[0]?.wal_status).not.toBe("lost");
    } finally {
      await r.stop();
    }
  });
});

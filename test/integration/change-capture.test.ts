/**
 * Change capture by trigger + outbox + relay (invariant 7, every committed write is seen): writes that bypass the
 * library — a plain pg client's UPDATE with and without a rev bump, DELETE, INSERT of a previously cached id,
 * TRUNCATE, a multi-row UPDATE in one transaction — reach two runtimes' L1 (push on) and L2 within the relay's
 * bound; a rolled-back transaction changes nothing; without a relay they stay unseen (and the stats say why); two
 * relays at once share the work with no loss; uninstall leaves nothing behind.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeCaptureUninstallSql, type Runtime } from "../../src/index.js";
import { captureStats, pollsPass, rawClient, seenEverywhere } from "../support/capture.js";
import { waitUntil } from "../support/eventually.js";
import { FAST_TIMING, peekRev, pushProducts, warm } from "../support/push-runtime.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe.skipIf(env.skip)("change capture: trigger + outbox + relay", () => {
  let system: System;
  let a: Runtime;
  let b: Runtime;
  let sql: pg.Client;
  const docs = () => a.context().document.command(pushProducts);
  const created = async (price = 1) => (await docs().create({ name: `p-${randomUUID().slice(0, 6)}`, price })).id;
  const warmBoth = async (id: string) => {
    await warm(a, pushProducts, id);
    await warm(b, pushProducts, id);
  };
  const priceOf = async (runtime: Runtime, id: string) =>
    (await runtime.context().document.query(pushProducts).find(id))?.price;

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      push: FAST_TIMING,
      changeCapture: "outbox",
      changeRelay: { pollInterval: 20 },
      specs: [pushProducts],
    });
    a = system.runtime;
    b = await system.startPeer();
    sql = await rawClient(env.postgres!.url);
  });
  afterAll(async () => {
    await sql?.end();
    await system?.stop();
  });

  it("installs the triggers and the outbox at start; stats say outbox, relay running, caught up", async () => {
    const triggers = await sql.query(
      "SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.products'::regclass AND NOT tgisinternal ORDER BY 1",
    );
    expect(triggers.rows.map((row) => row.tgname)).toEqual(["stratacache_capture", "stratacache_capture_truncate"]);
    await pollsPass(a);
    expect(captureStats(a)).toMatchObject({ mode: "outbox", relay: "running", depth: 0, lagMs: 0, failed: 0 });
  });

  it("a raw UPDATE that bumps rev is seen by both runtimes", async () => {
    const id = await created();
    await warmBoth(id);
    await sql.query(`UPDATE products SET data = data || '{"price": 7}', rev = rev + 1 WHERE id = $1`, [id]);
    await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 2);
    expect(await priceOf(a, id)).toBe(7);
    expect(await priceOf(b, id)).toBe(7);
  });

  it("a raw UPDATE that leaves rev alone gets rev + 1 from the trigger, and is seen by both", async () => {
    const id = await created();
    await warmBoth(id);
    await sql.query(`UPDATE products SET data = data || '{"price": 8}' WHERE id = $1`, [id]);
    expect((await sql.query("SELECT rev FROM products WHERE id = $1", [id])).rows[0].rev).toBe("2");
    await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 2);
    expect(await priceOf(b, id)).toBe(8);
    // Even a write that lowers rev orders after what was cached.
    await warmBoth(id);
    await sql.query(`UPDATE products SET data = data || '{"price": 9}', rev = 1 WHERE id = $1`, [id]);
    await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 3);
    expect(await priceOf(b, id)).toBe(9);
  });

  it("a raw DELETE is seen by both (a miss), and a raw INSERT of the same id after it too", async () => {
    const id = await created(3);
    await warmBoth(id);
    const before = await sql.query("SELECT incarnation FROM products WHERE id = $1", [id]);
    await sql.query("DELETE FROM products WHERE id = $1", [id]);
    await seenEverywhere([a, b], pushProducts, id, (rev) => rev === undefined);
    // The old incarnation's value as the explicit column: the trigger still orders the new life after the old one.
    await sql.query(
      `INSERT INTO products (id, rev, incarnation, data) OVERRIDING SYSTEM VALUE VALUES ($1, 1, $2, $3)`,
      [id, before.rows[0].incarnation, JSON.stringify({ name: "reborn", price: 4 })],
    );
    await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 1);
    expect(await priceOf(a, id)).toBe(4);
    expect(await priceOf(b, id)).toBe(4);
  });

  it("a multi-row UPDATE in one transaction is seen for every row", async () => {
    const ids = await Promise.all([created(), created(), created()]);
    for (const id of ids) await warmBoth(id);
    await sql.query("BEGIN");
    await sql.query(`UPDATE products SET data = data || '{"price": 50}' WHERE id = ANY($1::uuid[])`, [ids]);
    await sql.query(`UPDATE products SET data = data || '{"price": 51}' WHERE id = $1`, [ids[0]]);
    await sql.query("COMMIT");
    for (const id of ids) await seenEverywhere([a, b], pushProducts, id, (rev) => rev !== undefined && rev >= 2);
    expect(await priceOf(b, ids[0]!)).toBe(51);
    expect(await priceOf(b, ids[2]!)).toBe(50);
  });

  it("a rolled-back transaction leaves no change and invalidates nothing", async () => {
    const id = await created(5);
    // The create's own change first (applying it drops the relays' L1 copies too), then the cached state to keep.
    await pollsPass(a);
    await pollsPass(b);
    await warmBoth(id);
    const applied = captureStats(a).applied + captureStats(b).applied;
    await sql.query("BEGIN");
    await sql.query(`UPDATE products SET data = data || '{"price": 6}' WHERE id = $1`, [id]);
    await sql.query("ROLLBACK");
    await pollsPass(a, 3);
    await pollsPass(b, 3);
    expect((await sql.query("SELECT count(*)::int AS n FROM stratacache_outbox")).rows[0].n).toBe(0);
    expect(captureStats(a).applied + captureStats(b).applied).toBe(applied);
    expect(peekRev(a, pushProducts, id)).toBe(1);
    expect(peekRev(b, pushProducts, id)).toBe(1);
  });

  it("a raw TRUNCATE flushes the document on both runtimes", async () => {
    const ids = [await created(), await created()];
    for (const id of ids) await warmBoth(id);
    const flushes = captureStats(a).flushes + captureStats(b).flushes;
    await sql.query("TRUNCATE products");
    for (const id of ids) await seenEverywhere([a, b], pushProducts, id, (rev) => rev === undefined);
    expect(captureStats(a).flushes + captureStats(b).flushes).toBe(flushes + 1);
  });

  it("two relays at once: every change is claimed once (applied or duplicate), none is lost", async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => created(0)));
    for (const id of ids) await warmBoth(id);
    const total = (runtime: Runtime) => captureStats(runtime).applied + captureStats(runtime).duplicates;
    // An empty outbox means every claimed batch has committed, and a relay counts a batch before committing it.
    const drained = async () => (await sql.query("SELECT count(*)::int AS n FROM stratacache_outbox")).rows[0].n === 0;
    await waitUntil(drained, { intervalMs: 5, message: "the creates were never relayed" });
    const before = total(a) + total(b);
    let changes = 0;
    for (let round = 1; round <= 10; round++) {
      await sql.query("BEGIN");
      for (const id of ids) {
        await sql.query(`UPDATE products SET data = data || jsonb_build_object('price', $2::int) WHERE id = $1`, [
          id,
          round,
        ]);
        changes++;
      }
      await sql.query("COMMIT");
    }
    await waitUntil(async () => total(a) + total(b) - before >= changes, { timeoutMs: 10_000, intervalMs: 5 });
    await waitUntil(drained, { intervalMs: 5 });
    expect(total(a) + total(b) - before).toBe(changes);
    for (const id of ids) {
      await seenEverywhere([a, b], pushProducts, id, (rev) => rev === 11);
      expect(await priceOf(b, id)).toBe(10);
    }
  });
});

describe.skipIf(env.skip)("change capture without a relay", () => {
  it("a raw UPDATE stays unseen; the stats say no relay runs and the outbox holds the change", async () => {
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      push: FAST_TIMING,
      changeCapture: "outbox",
      changeRelay: { enabled: false },
      specs: [pushProducts],
    });
    const sql = await rawClient(env.postgres!.url);
    try {
      const b = await system.startPeer();
      const id = (await system.runtime.context().document.command(pushProducts).create({ name: "x", price: 1 })).id;
      await warm(b, pushProducts, id);
      await sql.query(`UPDATE products SET data = data || '{"price": 2}' WHERE id = $1`, [id]);
      expect(captureStats(b)).toMatchObject({ mode: "outbox", relay: "off", applied: 0 });
      expect(peekRev(b, pushProducts, id)).toBe(1);
      expect((await sql.query("SELECT count(*)::int AS n FROM stratacache_outbox")).rows[0].n).toBeGreaterThan(0);
      // A relay that starts later catches up.
      const relay = await system.startPeer({ changeRelay: { pollInterval: 20 } });
      await seenEverywhere([b, relay], pushProducts, id, (rev) => rev === 2);
    } finally {
      await sql.query("DELETE FROM stratacache_outbox");
      await sql.end();
      await system.stop();
    }
  });
});

describe.skipIf(env.skip)("uninstall", () => {
  it("the documented SQL removes every trigger, function and the outbox; the table keeps its rows", async () => {
    const sql = await rawClient(env.postgres!.url);
    try {
      const before = (await sql.query("SELECT count(*)::int AS n FROM products")).rows[0].n;
      await sql.query(changeCaptureUninstallSql);
      const left = await sql.query(
        `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'stratacache%')::int AS triggers,
                (SELECT count(*) FROM pg_proc WHERE proname LIKE 'stratacache%')::int AS functions,
                to_regclass('public.stratacache_outbox') IS NULL AS no_outbox,
                (SELECT count(*) FROM products)::int AS rows`,
      );
      expect(left.rows[0]).toEqual({ triggers: 0, functions: 0, no_outbox: true, rows: before });
      await sql.query(`UPDATE products SET data = data || '{"price": 1}'`); // writes work without the triggers
    } finally {
      await sql.end();
    }
  });
});

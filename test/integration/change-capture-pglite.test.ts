/**
 * Change capture on PGlite, in process: the same triggers and outbox, drained by the polling relay (PGlite has no
 * separate sessions to LISTEN on), invalidating the in-process L2 and the L1 — raw UPDATE (no rev bump), DELETE and
 * TRUNCATE made on the PGlite instance behind the library's back.
 */
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, memoryCacheModule, postgresModule, type Runtime, silentLogger } from "../../src/index.js";
import { captureStats, pollsPass } from "../support/capture.js";
import { waitUntil } from "../support/eventually.js";
import { productSpec } from "../support/strata.js";

const products = productSpec({ ttl: "5m", l1: { ttl: "1m", capacity: 100 } });

describe("change capture on PGlite", () => {
  let pglite: PGlite;
  let runtime: Runtime;
  const query = () => runtime.context().document.query(products);
  /** Caches the id in L1 once the relay has applied the changes before (a create's own change drops L1 too). */
  const warm = async (id: string) => {
    await pollsPass(runtime);
    await query().get(id);
    await runtime.settled(); // L1 takes it once its fill has landed, right behind the read
    expect(query().peek(id)).toBeDefined();
  };
  const dropped = (id: string) =>
    waitUntil(() => query().peek(id) === undefined, { intervalMs: 2, message: "L1 still holds it" });

  beforeAll(async () => {
    pglite = await PGlite.create();
    runtime = createRuntime({
      modules: [
        postgresModule({
          pglite,
          documents: { products: { changeCapture: true } },
          changeRelay: { pollInterval: 10 },
        }),
        memoryCacheModule({ caches: { products: { namespace: "pglite-capture" } } }),
      ],
      documents: [products],
      logger: silentLogger,
    });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await pglite?.close();
  });

  it("a raw UPDATE without a rev bump drops L1 and L2; the next read has the new rev", async () => {
    const { id } = await runtime.context().document.command(products).create({ name: "a", price: 1 });
    await warm(id);
    await pglite.query(`UPDATE products SET data = data || '{"price": 2}' WHERE id = $1`, [id]);
    await dropped(id);
    const fresh = await query().get(id);
    expect({ rev: fresh.rev, price: fresh.price }).toEqual({ rev: 2, price: 2 });
    expect(captureStats(runtime)).toMatchObject({ mode: "outbox", relay: "running", failed: 0 });
    expect(captureStats(runtime).applied).toBeGreaterThanOrEqual(1);
  });

  it("a raw DELETE and a raw TRUNCATE are seen", async () => {
    const command = runtime.context().document.command(products);
    const first = await command.create({ name: "b", price: 1 });
    const second = await command.create({ name: "c", price: 1 });
    await warm(first.id);
    await warm(second.id);
    await pglite.query("DELETE FROM products WHERE id = $1", [first.id]);
    await dropped(first.id);
    expect(await query().find(first.id)).toBeUndefined();
    await pglite.query("TRUNCATE products");
    await dropped(second.id);
    expect(await query().find(second.id)).toBeUndefined();
    await pollsPass(runtime);
    expect(captureStats(runtime)).toMatchObject({ depth: 0, flushes: 1 });
  });
});

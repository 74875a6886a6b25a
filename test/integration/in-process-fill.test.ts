/**
 * With L2 in this process (the memory backend, or a Postgres cache table on PGlite), a read's fill is made at once rather than after the turn
 * (DocumentEntryStore.inProcess). Over PGlite, whose queries answer in microtasks, a loop of awaited reads that never
 * yields to the event loop still fills L2 and then L1. Left for the next turn, the fill would wait as long as the loop
 * runs: every later read of the id joined the first one's flight, and neither tier was filled. A Redis L2 still fills
 * after the turn (fill-behind.test.ts). A sealed store is as in-process as the store it wraps.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createRuntime,
  memoryCacheModule,
  postgresCacheModule,
  postgresModule,
  type RuntimeModule,
  silentLogger,
} from "../../src/index.js";
import { productSpec } from "../support/strata.js";

const sealing = { encryption: { keys: { k1: randomBytes(32) }, active: "k1" } };

const l2s: ReadonlyArray<readonly [string, () => RuntimeModule]> = [
  ["memory", () => memoryCacheModule({ caches: { products: { namespace: "in-process" } } })],
  ["memory, sealed", () => memoryCacheModule({ caches: { products: { namespace: "in-process", ...sealing } } })],
  [
    "Postgres table on PGlite",
    () => postgresCacheModule({ pglite: true, caches: { products: { namespace: "in-process" } } }),
  ],
];

describe.each(l2s)("fills into an in-process L2 (%s)", (_kind, l2) => {
  it("land while the caller loops in microtasks, for get and getMany", async () => {
    const spec = productSpec({ ttl: "1m", l1: { ttl: "30s", capacity: 100 } });
    const runtime = createRuntime({
      modules: [postgresModule({ pglite: true, documents: { products: {} } }), l2()],
      logger: silentLogger,
    });
    await runtime.start();
    try {
      const command = runtime.context().document.command(spec);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await command.create({ name: `p${i}`, price: i })).id);
      const query = runtime.context().document.query(spec);
      // From here on the loop must not yield to the event loop: this immediate runs only if something waits a turn.
      let turnPassed = false;
      setImmediate(() => {
        turnPassed = true;
      });
      for (let i = 0; i < 20; i++) expect((await query.get(ids[0] as string)).name).toBe("p0");
      for (let i = 0; i < 20; i++) {
        expect((await query.getMany(ids.slice(1))).map((doc) => doc.name)).toEqual(["p1", "p2"]);
      }
      expect(turnPassed).toBe(false);
      const stats = query.stats();
      expect(stats.source).toMatchObject({ fetches: 1, batchFetches: 1, fills: 3 });
      expect(stats.l1?.size).toBe(3);
      // Of the 57 document reads after the first get and the first getMany, those made before the fill landed joined
      // that read; the rest are L1 hits.
      expect(stats.l1?.hits).toBeGreaterThanOrEqual(20);
    } finally {
      await runtime.stop();
    }
  });
});

/**
 * Ports kept past `runtime.stop()` answer STOPPED, whatever tier would have served them: L1 is flushed and closed on
 * stop, so a query port cannot keep serving documents from a runtime that is gone. And a runtime that is not
 * running rejects `transaction()` (a promise-returning call never throws).
 */
import { describe, expect, it } from "vitest";
import { createRuntime, postgresModule, RuntimeStateError } from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, startRuntime } from "../support/strata.js";
import { rejection } from "../support/throws.js";

const env = await integrationEnv({ postgres: true });
const products = productSpec({ ttl: "5m", l1: { ttl: "1m" } });

describe.skipIf(env.skip)("ports after stop()", () => {
  it("a query port whose document sits in L1 rejects with STOPPED after stop(), and peek finds nothing", async () => {
    const runtime = await startRuntime({ databaseUrl: env.postgres!.url, redis: "memory" });
    const ctx = runtime.context();
    const query = ctx.document.query(products);
    const created = await ctx.document.command(products).create({ name: "kept", price: 1 });
    await query.get(created.id);
    await runtime.settled();
    await query.get(created.id);
    expect(query.peek(created.id)?.name).toBe("kept"); // it is in L1
    await runtime.stop();
    for (const read of [
      () => query.get(created.id),
      () => query.find(created.id),
      () => query.getMany([created.id]),
      () => query.findMany([created.id]),
    ]) {
      const error = await rejection(read);
      expect(error).toBeInstanceOf(RuntimeStateError);
      expect((error as RuntimeStateError).code).toBe("STOPPED");
    }
    expect(query.peek(created.id)).toBeUndefined();
  });

  it("runtime.transaction() rejects, and does not throw, before start() and after stop()", async () => {
    const runtime = createRuntime({
      modules: [postgresModule({ url: env.postgres!.url, documents: { products: { table: "products" } } })],
    });
    let returned: Promise<unknown> | undefined;
    expect(() => {
      returned = runtime.transaction(async () => 1);
    }).not.toThrow();
    expect(await rejection(returned!)).toBeInstanceOf(RuntimeStateError);
    await runtime.start();
    await runtime.stop();
    expect(() => {
      returned = runtime.transaction(async () => 1);
    }).not.toThrow();
    expect(await rejection(returned!)).toBeInstanceOf(RuntimeStateError);
  });
});

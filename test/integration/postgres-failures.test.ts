/**
 * Postgres going away mid-call, on a real server behind a TCP proxy: every error a caller sees is an
 * UnavailableError (code "UNAVAILABLE", dependency "postgres") with the driver's error as `cause` — for reads,
 * writes and transactions — while a server error the library handles (a taken id) is still a ConflictError.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../src/index.js";
import { ConflictError, UnavailableError } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, sleep } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";
import type { TcpProxy } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true });
const products = productSpec(undefined);

describe.skipIf(env.skip)("Postgres failures", () => {
  let system: System;
  let proxy: TcpProxy;
  let runtime: Runtime;
  let direct: Runtime;

  beforeAll(async () => {
    // The system's runtime reaches Postgres through the proxy; its peer `direct` does not.
    system = await buildSystem({ postgres: env.postgres!.url, redis: "none", proxy: "postgres" });
    ({ runtime } = system);
    proxy = system.proxy!;
    direct = await system.startPeer();
  });
  afterAll(async () => {
    await system?.stop();
  });

  /** Runs `call` with its statement held at the proxy, then cuts the link under it. */
  async function cutDuring(call: () => Promise<unknown>): Promise<unknown> {
    await runtime.context().document.query(products).find(randomUUID()); // a pooled connection is open
    proxy.holdReplies();
    const pending = call().catch((e: unknown) => e);
    await waitUntil(() => proxy.heldReplies > 0, { timeoutMs: 5_000, intervalMs: 5, message: "statement held" });
    proxy.cut();
    const error = await pending;
    proxy.restore();
    return error;
  }

  function expectUnavailable(error: unknown): void {
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).code).toBe("UNAVAILABLE");
    expect((error as UnavailableError).dependency).toBe("postgres");
    expect((error as UnavailableError).cause).toBeInstanceOf(Error);
  }

  it("a read cut mid-call is an UnavailableError with the driver's error as cause", async () => {
    expectUnavailable(await cutDuring(() => runtime.context().document.query(products).find(randomUUID())));
  });

  it("a write cut mid-call is an UnavailableError", async () => {
    const created = await direct.context().document.command(products).create({ name: "a", price: 1 });
    expectUnavailable(
      await cutDuring(() => runtime.context().document.command(products).update(created.id, 1, { price: 2 })),
    );
  });

  it("a transaction whose statement is cut is an UnavailableError; the caller's own error passes unchanged", async () => {
    expectUnavailable(
      await cutDuring(() =>
        runtime.context().transaction((tx) => tx.document.command(products).create({ name: "t", price: 1 })),
      ),
    );
    const mine = new Error("mine");
    const error = await runtime
      .context()
      .transaction(async () => {
        throw mine;
      })
      .catch((e: unknown) => e);
    expect(error).toBe(mine);
  });

  it("a connection dropped between two statements of a transaction does not crash the process", async () => {
    const uncaught: unknown[] = [];
    const monitor = (error: unknown) => uncaught.push(error);
    process.on("uncaughtExceptionMonitor", monitor);
    try {
      const error = await runtime
        .context()
        .transaction(async (tx) => {
          await tx.document.query(products).find(randomUUID());
          proxy.cut(); // the checked-out client is idle: its socket error has no statement to fail
          await waitUntil(() => proxy.connections === 0, { timeoutMs: 5_000, intervalMs: 5, message: "cut" });
          await sleep(50); // let the client see the reset
          return tx.document.query(products).find(randomUUID());
        })
        .catch((e: unknown) => e);
      expectUnavailable(error);
      expect(uncaught).toEqual([]);
    } finally {
      proxy.restore();
      process.off("uncaughtExceptionMonitor", monitor);
    }
  });

  it("a server error the library handles keeps its meaning: a taken id is a ConflictError", async () => {
    const created = await runtime.context().document.command(products).create({ name: "c", price: 1 });
    const error = await runtime
      .context()
      .document.command(products)
      .create({ id: created.id, name: "d", price: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
  });

  it("a server refusing the connection is an UnavailableError", async () => {
    proxy.cut();
    try {
      await runtime
        .context()
        .document.query(products)
        .find(randomUUID())
        .catch(() => undefined); // drop pooled
      const error = await runtime
        .context()
        .document.query(products)
        .find(randomUUID())
        .catch((e: unknown) => e);
      expectUnavailable(error);
    } finally {
      proxy.restore();
    }
  });
});

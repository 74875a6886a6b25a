/**
 * Degradation is visible but not noisy: with a Redis that fails every call (nothing listens at its address), reads
 * are served from Postgres and the failure is logged at warn — once per 10 s of the injected clock, the next line
 * carrying how many were held back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Logger, type Runtime, silentLogger } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { freePort } from "../support/net.js";
import { integrationEnv } from "../support/services.js";
import { ManualClock, productSpec } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true });
const products = productSpec({ ttl: "5m" });

class RecordingLogger implements Logger {
  readonly warnings: Array<{ message: string; fields: Readonly<Record<string, unknown>> | undefined }> = [];
  readonly debugs: string[] = [];
  debug(message: string) {
    this.debugs.push(message);
  }
  info() {}
  warn(message: string, fields?: Readonly<Record<string, unknown>>) {
    this.warnings.push({ message, fields });
  }
  error() {}
}

describe.skipIf(env.skip)("degradation logging", () => {
  let system: System;
  let runtime: Runtime;
  const logger = new RecordingLogger();
  const clock = new ManualClock();

  beforeAll(async () => {
    const port = await freePort();
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: `redis://127.0.0.1:${port}` },
      clock,
      logger,
    });
    runtime = system.runtime;
  });
  afterAll(async () => {
    await system?.stop();
  });

  it("a Redis failing every read is reported at warn, one line per 10 s with the suppressed count", async () => {
    const ctx = runtime.context();
    // Written by a runtime without a cache: a create on the Redis-less runtime would fail its post-commit clear and
    // make the id suspect (read from Postgres only), so its reads would never reach L2 to fail.
    const writer = await system.startPeer({ redis: undefined, clock: undefined, logger: silentLogger });
    const created = await writer.context().document.command(products).create({ name: "a", price: 1 });
    await writer.stop();
    const l2Lines = () => logger.warnings.filter((line) => line.message.startsWith("L2 call failed"));
    for (let i = 0; i < 5; i++) expect(await ctx.document.query(products).get(created.id)).toMatchObject({ price: 1 });
    // The clock has not moved: exactly one line, however many calls failed.
    expect(l2Lines()).toHaveLength(1);
    expect(l2Lines()[0]?.fields).toMatchObject({ document: "products" });
    clock.advance(10_000);
    await ctx.document.query(products).get(created.id);
    expect(l2Lines()).toHaveLength(2);
    expect(Number(l2Lines()[1]?.fields?.suppressed)).toBeGreaterThanOrEqual(4);
  });

  it("connection errors are reported at warn, once per window of the injected clock", async () => {
    const lines = () => logger.warnings.filter((line) => line.message.startsWith("redis connection error"));
    expect(lines().length).toBeGreaterThanOrEqual(1);
    expect(lines().length).toBeLessThanOrEqual(2); // the manual clock moved 10 s once
  });
});

describe.skipIf(env.skip)("push degradation logging", () => {
  let system: System;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    const port = await freePort();
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: `redis://127.0.0.1:${port}` },
      push: true,
      clock: new ManualClock(),
      logger,
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it("push that cannot arm is reported at warn, once per window however often it retries", async () => {
    const message = "push invalidation cannot arm";
    await waitUntil(() => logger.debugs.filter((line) => line.startsWith(message)).length >= 2, {
      timeoutMs: 10_000,
      intervalMs: 10,
      message: "three failed attempts",
    });
    expect(logger.warnings.filter((line) => line.message.startsWith(message))).toHaveLength(1);
  });
});

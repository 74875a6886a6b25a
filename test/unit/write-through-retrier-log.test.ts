/**
 * Write-through retries during an outage are logged at warn, rate-limited on the injected clock: many ids failing
 * many times give one line per 10 s, not one per id and attempt.
 */
import { describe, expect, it } from "vitest";
import type { Logger } from "../../src/kernel/logger.js";
import { WriteThroughRetrier } from "../../src/read-through/write-through-retrier.js";

describe("WriteThroughRetrier logging", () => {
  it("logs failing retries at warn once per window, with the held-back count on the next line", async () => {
    const warnings: Array<Readonly<Record<string, unknown>> | undefined> = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (message, fields) => {
        if (message.startsWith("cache write-through failed")) warnings.push(fields);
      },
      error() {},
    };
    let now = 0;
    const retrier = new WriteThroughRetrier(
      "docs",
      { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 4, quarantineMs: 1_000 },
      { now: () => now, random: () => 0.5 },
      logger,
    );
    let calls = 0;
    for (const id of ["a", "b", "c", "d", "e"]) {
      retrier.schedule(id, {
        incarnation: 1,
        rev: 2,
        run: async () => {
          calls++;
          throw new Error("redis down");
        },
      });
    }
    // Each id: 4 attempts, 3 of which log "retrying" → 15 retry failures in all.
    const deadline = Date.now() + 2_000;
    while (calls < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(calls).toBe(20);
    expect(warnings).toHaveLength(1);
    now += 10_000;
    retrier.schedule("f", {
      incarnation: 1,
      rev: 2,
      run: async () => {
        calls++;
        throw new Error("redis down");
      },
    });
    while (calls < 21 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatchObject({ suppressed: 14 });
    retrier.stop();
  });
});

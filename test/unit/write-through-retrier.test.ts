import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/kernel/logger.js";
import { WriteThroughRetrier } from "../../src/read-through/write-through-retrier.js";
import { waitUntil } from "../support/eventually.js";

describe("WriteThroughRetrier", () => {
  const options = { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, quarantineMs: 1_000 };

  it("retries until the write lands; the id is suspect meanwhile and not after", async () => {
    const clock = { now: () => 0, random: () => 0.5 };
    const retrier = new WriteThroughRetrier("docs", options, clock, silentLogger);
    let calls = 0;
    retrier.schedule("a", {
      incarnation: 1,
      rev: 2,
      run: async () => {
        if (++calls < 2) throw new Error("redis down");
      },
    });
    expect(retrier.isSuspect("a")).toBe(true);
    expect(retrier.idle).toBe(false);
    await waitUntil(() => !retrier.isSuspect("a"), { timeoutMs: 2_000, intervalMs: 2 });
    expect(calls).toBe(2);
    expect(retrier.idle).toBe(true);
  });

  it("after giving up, the id stays suspect (quarantined) — and the retrier is not idle — until quarantine ends", async () => {
    let now = 10_000;
    const clock = { now: () => now, random: () => 0.5 };
    const retrier = new WriteThroughRetrier("docs", options, clock, silentLogger);
    let calls = 0;
    retrier.schedule("b", {
      incarnation: 1,
      rev: 5,
      run: async () => {
        calls++;
        throw new Error("still down");
      },
    });
    await waitUntil(() => calls === 3, { timeoutMs: 2_000, intervalMs: 2 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Nothing is pending any more, but batch reads must still treat "b" as suspect.
    expect(retrier.isSuspect("b")).toBe(true);
    expect(retrier.idle).toBe(false);
    now += 1_001;
    expect(retrier.idle).toBe(true);
    expect(retrier.isSuspect("b")).toBe(false);
  });

  it("a newer pending write supersedes an older one; stop() forgets everything", async () => {
    const clock = { now: () => 0, random: () => 0.5 };
    const retrier = new WriteThroughRetrier(
      "docs",
      { ...options, baseDelayMs: 1_000, maxDelayMs: 1_000 },
      clock,
      silentLogger,
    );
    const ran: number[] = [];
    const write = (rev: number) => ({ incarnation: 1, rev, run: async () => void ran.push(rev) });
    retrier.schedule("c", write(3));
    retrier.schedule("c", write(2)); // older: ignored, 3 covers it
    retrier.landed("c", 1, 3);
    expect(retrier.isSuspect("c")).toBe(false);
    retrier.schedule("d", write(1));
    retrier.stop();
    expect(retrier.idle).toBe(true);
    expect(ran).toEqual([]);
  });
});

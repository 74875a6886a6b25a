/**
 * abortable() gives up waiting without leaving the work's rejection unhandled (an unhandled rejection takes a Node
 * process down), whether the signal had already fired or fires while the work runs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { abortable } from "../../src/kernel/abortable.js";
import { AbortError } from "../../src/kernel/errors.js";

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("abortable", () => {
  const unhandled: unknown[] = [];
  const watch = (reason: unknown) => void unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", watch);
  });
  afterEach(() => {
    process.off("unhandledRejection", watch);
  });

  it("with an already-aborted signal, rejects with AbortError and observes the work's later rejection", async () => {
    let fail: (error: Error) => void = () => {};
    const work = new Promise<number>((_, reject) => {
      fail = reject;
    });
    await expect(abortable(work, AbortSignal.abort("gone"))).rejects.toBeInstanceOf(AbortError);
    fail(new Error("the query failed after the caller left"));
    await settle();
    expect(unhandled).toEqual([]);
  });

  it("with a signal that fires mid-way, observes the work's later rejection", async () => {
    let fail: (error: Error) => void = () => {};
    const work = new Promise<number>((_, reject) => {
      fail = reject;
    });
    const controller = new AbortController();
    const waiting = abortable(work, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    fail(new Error("late"));
    await settle();
    expect(unhandled).toEqual([]);
  });
});

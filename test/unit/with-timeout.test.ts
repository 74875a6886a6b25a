import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rejectWith, withTimeout } from "../../src/kernel/with-timeout.js";

describe("withTimeout", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("settles as the bounded promise does before the deadline, and leaves no timer behind", async () => {
    await expect(withTimeout(Promise.resolve(7), 100, rejectWith("late"))).resolves.toBe(7);
    const failure = new Error("boom");
    await expect(withTimeout(Promise.reject(failure), 100, rejectWith("late"))).rejects.toBe(failure);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the factory's error once the deadline passes, not before", async () => {
    const bounded = withTimeout(new Promise<number>(() => {}), 100, rejectWith("SELECT 1: no answer within 100 ms"));
    const outcome = bounded.then(
      () => "resolved",
      (error: Error) => error.message,
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe("SELECT 1: no answer within 100 ms");
  });

  it("resolves with the fallback when onTimeout returns one, and ignores the late outcome", async () => {
    let finish: (value: string) => void = () => {};
    const late = new Promise<string>((resolve) => {
      finish = resolve;
    });
    const bounded = withTimeout(late, 50, () => undefined, { unref: true });
    await vi.advanceTimersByTimeAsync(50);
    await expect(bounded).resolves.toBeUndefined();
    finish("too late");
    await expect(bounded).resolves.toBeUndefined();
  });
});

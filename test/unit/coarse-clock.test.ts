import { afterEach, describe, expect, it, vi } from "vitest";
import { coarseNow } from "../../src/kernel/coarse-clock.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("coarseNow", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("reads Date.now once per event-loop turn", async () => {
    await nextTurn();
    const now = vi.spyOn(Date, "now").mockReturnValue(1_000);
    expect(coarseNow()).toBe(1_000);
    now.mockReturnValue(2_000);
    expect(coarseNow()).toBe(1_000); // same turn: the cached reading
    expect(now).toHaveBeenCalledTimes(1);
    await nextTurn();
    expect(coarseNow()).toBe(2_000);
    expect(now).toHaveBeenCalledTimes(2);
  });

  it("re-reads within a long turn every 256 lookups, so it never freezes", async () => {
    await nextTurn();
    const now = vi.spyOn(Date, "now").mockReturnValue(5_000);
    expect(coarseNow()).toBe(5_000);
    now.mockReturnValue(6_000);
    const seen = new Set<number>();
    for (let i = 0; i < 256; i++) seen.add(coarseNow());
    expect(seen).toEqual(new Set([5_000, 6_000]));
    expect(coarseNow()).toBe(6_000);
  });
});

import { describe, expect, it } from "vitest";
import { afterTurn } from "../../src/kernel/after-turn.js";

describe("afterTurn", () => {
  it("starts the work after this turn's microtasks and callbacks, all queued work in one go, in order", async () => {
    const order: string[] = [];
    const first = afterTurn(async () => {
      order.push("first");
      return 1;
    });
    const second = afterTurn(async () => {
      order.push("second");
      return 2;
    });
    order.push("sync");
    await Promise.resolve();
    order.push("microtask");
    expect(order).toEqual(["sync", "microtask"]); // nothing started yet
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(order).toEqual(["sync", "microtask", "first", "second"]);
  });

  it("work queued by work that runs starts on a later turn, not in the same pass", async () => {
    const order: string[] = [];
    await afterTurn(async () => {
      order.push("outer");
      void afterTurn(async () => {
        order.push("inner");
      });
      order.push("outer done");
    });
    expect(order).toEqual(["outer", "outer done"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(["outer", "outer done", "inner"]);
  });

  it("rejects with what the work threw or rejected with, and later work still runs", async () => {
    const thrown = afterTurn(() => {
      throw new Error("sync");
    });
    const rejected = afterTurn(() => Promise.reject(new Error("async")));
    const fine = afterTurn(async () => "ok");
    await expect(thrown).rejects.toThrow("sync");
    await expect(rejected).rejects.toThrow("async");
    expect(await fine).toBe("ok");
  });
});

import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/kernel/logger.js";
import { BackgroundRefresher } from "../../src/read-through/background-refresher.js";

/** A refresh that settles when the test says so. */
function held() {
  let release!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { promise, release, fail };
}

describe("BackgroundRefresher", () => {
  it("takes as many keys as the cap leaves room for, skips keys already refreshing, and frees them when done", async () => {
    const refresher = new BackgroundRefresher(2, silentLogger);
    const first = held();
    const seen: Array<ReadonlyArray<number>> = [];
    const noFailure = () => {
      throw new Error("unexpected failure");
    };
    expect(
      refresher.start(
        ["a", "b", "c"],
        (taken) => {
          seen.push(taken);
          return first.promise;
        },
        noFailure,
      ),
    ).toBe(2);
    expect(seen).toEqual([[0, 1]]);
    expect(refresher.active).toBe(2);
    expect(refresher.start(["c"], async () => {}, noFailure)).toBe(0); // no room left
    first.release();
    await refresher.drain(1_000);
    expect(refresher.active).toBe(0); // keys freed (drain also stops this one: a fresh one below)
    const second = new BackgroundRefresher(3, silentLogger);
    const hold = held();
    expect(second.start(["a"], () => hold.promise, noFailure)).toBe(1);
    const taken: Array<ReadonlyArray<number>> = [];
    expect(
      second.start(
        ["a", "b", "c"],
        async (indices) => {
          taken.push(indices);
        },
        noFailure,
      ),
    ).toBe(2); // "a" is refreshing already: only b and c
    expect(taken).toEqual([[1, 2]]);
    hold.release();
    await second.drain(1_000);
    expect(second.active).toBe(0);
  });

  it("reports a failing refresh to onFailure, never throws, and frees its keys", async () => {
    const refresher = new BackgroundRefresher(4, silentLogger);
    const failing = held();
    const failures: unknown[] = [];
    expect(
      refresher.start(
        ["x"],
        () => failing.promise,
        (error) => failures.push(error),
      ),
    ).toBe(1);
    failing.fail(new Error("postgres down"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
    expect(refresher.active).toBe(0);
    expect(
      refresher.start(
        ["x"],
        async () => {},
        () => {},
      ),
    ).toBe(1);
  });

  it("drain waits for refreshes in flight, then refuses new ones", async () => {
    const refresher = new BackgroundRefresher(4, silentLogger);
    const slow = held();
    let done = false;
    refresher.start(
      ["y"],
      async () => {
        await slow.promise;
        done = true;
      },
      () => {},
    );
    const drained = refresher.drain(5_000);
    setTimeout(() => slow.release(), 20);
    await drained;
    expect(done).toBe(true);
    expect(
      refresher.start(
        ["z"],
        async () => {},
        () => {},
      ),
    ).toBe(0);
  });
});

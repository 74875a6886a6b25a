/**
 * Every module option that ends up in a Node timer is a whole number of milliseconds from 1 to 2^31 - 1: Node turns a
 * longer delay into 1 ms, which made every Redis call time out, broke start through queryTimeoutMs and kept push
 * from ever arming. Refused at construction, naming the option.
 */
import { describe, expect, it } from "vitest";
import { ConfigurationError, postgresModule, redisModule } from "../../src/index.js";
import { checkTimerDelay, MAX_TIMER_DELAY_MS } from "../../src/kernel/check-options.js";

const documents = { products: {} };
const caches = { products: { namespace: "app:products", invalidationPush: true } };

const builders: ReadonlyArray<readonly [string, (value: unknown) => unknown]> = [
  ["redisModule.timeoutMs", (v) => redisModule({ url: "redis://x", caches, timeoutMs: v as number })],
  [
    "postgresModule.queryTimeoutMs",
    (v) => postgresModule({ url: "postgres://h/db", documents, queryTimeoutMs: v as number }),
  ],
  ...(["heartbeatIntervalMs", "heartbeatTimeoutMs", "reconnectBaseMs", "reconnectMaxMs"] as const).map(
    (key) =>
      [
        `redisModule.invalidation.${key}`,
        (v: unknown) =>
          redisModule({
            url: "redis://x",
            caches,
            // reconnectMaxMs must stay >= reconnectBaseMs: pin the other one to the smallest/largest legal value.
            invalidation: {
              ...(key === "reconnectMaxMs" ? { reconnectBaseMs: 1 } : {}),
              ...(key === "reconnectBaseMs" ? { reconnectMaxMs: MAX_TIMER_DELAY_MS } : {}),
              [key]: v as number,
            },
          }),
      ] as const,
  ),
];

const refused: ReadonlyArray<unknown> = [
  2 ** 31,
  2 ** 32 + 5,
  1e12,
  Number.MAX_SAFE_INTEGER,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "100",
  null,
];

describe.each(builders)("%s", (path, build) => {
  it.each(refused.map((value) => [String(value), value]))(
    "refuses %s with a ConfigurationError naming it",
    (_n, value) => {
      let error: unknown;
      try {
        build(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).path).toBe(path);
    },
  );

  it("accepts 1 and 2^31 - 1", () => {
    expect(() => build(1)).not.toThrow();
    expect(() => build(MAX_TIMER_DELAY_MS)).not.toThrow();
  });
});

describe("checkTimerDelay", () => {
  it("says why in its message", () => {
    expect(() => checkTimerDelay(2 ** 31, "x")).toThrow(
      /x must be a whole number of milliseconds from 1 to 2147483647/,
    );
  });
});

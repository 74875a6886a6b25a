/**
 * RateLimitedLog on a manual clock: the first warning of a kind prints at once, later ones within the window go to
 * debug and are counted, and the next line after the window carries that count; kinds are limited apart.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../src/kernel/logger.js";
import { RateLimitedLog } from "../../src/kernel/rate-limited-log.js";

class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields: Readonly<Record<string, unknown>> | undefined }> = [];
  debug = (message: string, fields?: Readonly<Record<string, unknown>>) => this.#push("debug", message, fields);
  info = (message: string, fields?: Readonly<Record<string, unknown>>) => this.#push("info", message, fields);
  warn = (message: string, fields?: Readonly<Record<string, unknown>>) => this.#push("warn", message, fields);
  error = (message: string, fields?: Readonly<Record<string, unknown>>) => this.#push("error", message, fields);
  #push(level: string, message: string, fields: Readonly<Record<string, unknown>> | undefined) {
    this.lines.push({ level, message, fields });
  }
  get warnings() {
    return this.lines.filter((line) => line.level === "warn");
  }
}

describe("RateLimitedLog", () => {
  it("prints one warning per kind per window, then one carrying the suppressed count", () => {
    let now = 1_000;
    const logger = new RecordingLogger();
    const log = new RateLimitedLog(logger, { now: () => now }, 10_000);
    for (let i = 0; i < 5; i++) log.warn("l2", "L2 failed", { i });
    expect(logger.warnings).toEqual([{ level: "warn", message: "L2 failed", fields: { i: 0 } }]);
    expect(logger.lines.filter((line) => line.level === "debug")).toHaveLength(4);
    now += 9_999;
    log.warn("l2", "L2 failed", { i: 5 });
    expect(logger.warnings).toHaveLength(1);
    now += 1;
    log.warn("l2", "L2 failed", { i: 6 });
    expect(logger.warnings[1]).toEqual({ level: "warn", message: "L2 failed", fields: { i: 6, suppressed: 5 } });
    now += 10_000;
    log.warn("l2", "L2 failed", { i: 7 });
    expect(logger.warnings[2]?.fields).toEqual({ i: 7 }); // nothing held back in between
  });

  it("limits each kind on its own", () => {
    const logger = new RecordingLogger();
    const log = new RateLimitedLog(logger, { now: () => 0 });
    log.warn("a", "A");
    log.warn("b", "B");
    log.warn("a", "A");
    log.warn("b", "B");
    expect(logger.warnings.map((line) => line.message)).toEqual(["A", "B"]);
  });

  it("never prints more than one line per window per kind, whatever the call pattern", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.constantFrom("a", "b"))), (steps) => {
        let now = 0;
        const logger = new RecordingLogger();
        const log = new RateLimitedLog(logger, { now: () => now }, 10_000);
        const printed: Array<{ kind: string; at: number }> = [];
        let calls = 0;
        for (const [advance, kind] of steps) {
          now += advance;
          const before = logger.warnings.length;
          log.warn(kind, kind);
          calls++;
          if (logger.warnings.length > before) printed.push({ kind, at: now });
        }
        for (const kind of ["a", "b"]) {
          const times = printed.filter((p) => p.kind === kind).map((p) => p.at);
          for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(10_000);
        }
        // Every call is either printed or counted in a later line's `suppressed` or still pending in debug.
        expect(logger.lines.length).toBe(calls);
      }),
    );
  });
});

/**
 * createRuntime options are checked like every other setting: an unknown key is refused (with a did-you-mean hint),
 * and the logger and clock it will call are checked for their methods at construction.
 */
import { describe, expect, it } from "vitest";
import type { Logger } from "../../src/index.js";
import { createRuntime, postgresModule, silentLogger, systemClock } from "../../src/index.js";
import { expectConfigurationError } from "../support/throws.js";

const pgm = postgresModule({ pglite: true, documents: { products: {} } });

class PrototypeLogger implements Logger {
  readonly lines: string[] = [];
  debug(message: string): void {
    this.lines.push(message);
  }
  info(message: string): void {
    this.lines.push(message);
  }
  warn(message: string): void {
    this.lines.push(message);
  }
  error(message: string): void {
    this.lines.push(message);
  }
}

describe("createRuntime options", () => {
  it.each<[string, unknown, string, RegExp]>([
    ["a misspelled logger", { modules: [pgm], loger: silentLogger }, "loger", /did you mean logger\?/],
    ["a misspelled clock", { modules: [pgm], clok: systemClock }, "clok", /did you mean clock\?/],
    ["a cache option at the wrong level", { modules: [pgm], skipCache: true }, "skipCache", /not a known setting/],
    ["undefined options", undefined, "createRuntime", /must be an object like/],
    ["null options", null, "createRuntime", /must be an object like/],
    ["an array as options", [pgm], "createRuntime", /must be an object like/],
    ["a logger that is a string", { modules: [pgm], logger: "debug" }, "logger", /must be an object with debug\(\)/],
    [
      "a logger without methods",
      { modules: [pgm], logger: {} },
      "logger",
      /lacks debug\(\), info\(\), warn\(\), error\(\)/,
    ],
    ["a partial logger", { modules: [pgm], logger: { warn() {}, error() {} } }, "logger", /lacks debug\(\), info\(\)$/],
    [
      "a logger whose method is not a function",
      { modules: [pgm], logger: { ...silentLogger, warn: true } },
      "logger",
      /lacks warn\(\)/,
    ],
    ["a clock without random", { modules: [pgm], clock: { now: (): number => 0 } }, "clock", /lacks random\(\)/],
    ["Date as a clock", { modules: [pgm], clock: Date }, "clock", /lacks random\(\)/],
    ["a clock that is a number", { modules: [pgm], clock: 0 }, "clock", /must be an object with now\(\), random\(\)/],
    ["null as a logger", { modules: [pgm], logger: null }, "logger", /must be an object/],
  ])("refuses %s", (_name, options, path, message) => {
    const error = expectConfigurationError(() => createRuntime(options as never));
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });

  it("accepts a class-instance logger, console, and a plain clock object", () => {
    const logger = new PrototypeLogger();
    const runtime = createRuntime({ modules: [pgm], logger, clock: { now: () => 1, random: () => 0.5 } });
    expect(runtime.state).toBe("created");
    expect(createRuntime({ modules: [pgm], logger: console }).state).toBe("created");
  });
});

import { describe, expect, it } from "vitest";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "../../src/kernel/duration.js";
import type { ConfigurationError } from "../../src/kernel/errors.js";
import { expectConfigurationError } from "../support/throws.js";

function expectRejected(value: unknown, path = "cache.ttl"): ConfigurationError {
  return expectConfigurationError(() => parseDuration(value, path), {
    code: "CONFIGURATION",
    path,
    messageStartsWithPath: true,
  });
}

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["2s", 2_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1.5s", 1_500],
    ["0.5m", 30_000],
    [1_500, 1_500],
    [1, 1],
  ])("accepts %j as %i ms", (input, ms) => {
    expect(parseDuration(input, "cache.ttl")).toBe(ms);
  });

  it("rounds sub-millisecond values up, never down to zero", () => {
    expect(parseDuration(0.5, "cache.ttl")).toBe(1);
    expect(parseDuration("0.5ms", "cache.ttl")).toBe(1);
    expect(parseDuration(1.2, "cache.ttl")).toBe(2);
  });

  it.each([
    "5 minutes",
    "-1s",
    -5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0,
    -0,
    "0s",
    "0ms",
    "",
    "5",
    "1.5.m",
    "1 h",
    " 5m",
    "5m ",
    "5M",
    "1e3ms",
    "+5s",
    ".5s",
    "5mins",
  ])("rejects %j", (value) => {
    expectRejected(value);
  });

  it.each([null, undefined, true, {}, [], 5n, () => 5])("rejects the non-duration %s", (value) => {
    expectRejected(value, "cache.l1.ttl");
  });

  it("accepts up to one year and rejects anything longer", () => {
    expect(parseDuration("365d", "cache.ttl")).toBe(MAX_DURATION_MS);
    expect(parseDuration(MAX_DURATION_MS, "cache.ttl")).toBe(MAX_DURATION_MS);
    expectRejected("366d");
    expectRejected(MAX_DURATION_MS + 1);
  });

  it("explains the accepted notation", () => {
    expect(expectRejected("5 minutes").message).toContain('"5m"');
    expect(expectRejected(-5).message).toContain("positive");
  });
});

describe("formatDuration", () => {
  it.each([
    [86_400_000, "1d"],
    [3_600_000, "1h"],
    [300_000, "5m"],
    [2_000, "2s"],
    [1_500, "1500ms"],
    [90_000, "90s"],
    [1, "1ms"],
  ])("renders %i as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text, "x")).toBe(ms);
  });
});

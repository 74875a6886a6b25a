import { describeValue } from "./config-object.js";
import { ConfigurationError } from "./errors.js";

/** Milliseconds, or a string such as `"250ms"`, `"2s"`, `"5m"`, `"1h"`, `"1d"`. */
export type Duration = number | `${number}${DurationUnit}`;
/** The units a Duration string may end in: milliseconds, seconds, minutes, hours, days. */
export type DurationUnit = "ms" | "s" | "m" | "h" | "d";

/** Longest duration accepted anywhere: one year. Keeps every derived deadline a safe integer. */
export const MAX_DURATION_MS = 365 * 86_400_000;

const UNIT_MS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// A plain decimal number followed directly by one unit; no spaces, no exponent, no sign.
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses a Duration into whole milliseconds (rounded up, so "0.5ms" is 1ms, never 0).
 * Throws ConfigurationError naming `path` for anything that is not a positive, finite duration
 * of at most MAX_DURATION_MS. A unitless string ("5") is refused: it is ambiguous, not milliseconds.
 */
export function parseDuration(value: unknown, path: string): number {
  let ms: number;
  if (typeof value === "number") {
    ms = value;
  } else if (typeof value === "string") {
    const match = PATTERN.exec(value);
    if (!match) {
      throw new ConfigurationError(
        path,
        `must be a duration like "250ms", "2s", "5m", "1h", "1d" or a number of milliseconds (got ${describeValue(value)})`,
      );
    }
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  } else {
    throw new ConfigurationError(
      path,
      `must be a duration (milliseconds or a string like "5m"), got ${describeValue(value)}`,
    );
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ConfigurationError(path, `must be a positive finite duration (got ${describeValue(value)})`);
  }
  const whole = Math.ceil(ms);
  if (whole > MAX_DURATION_MS) {
    throw new ConfigurationError(path, `must be at most 365d (got ${describeValue(value)})`);
  }
  return whole;
}

/** Renders milliseconds in the largest unit that divides them exactly: 300000 → "5m", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

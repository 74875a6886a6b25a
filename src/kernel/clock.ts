/**
 * Time and randomness, injectable so that expiry, early refresh and jitter are deterministic in tests.
 * `now` is wall-clock milliseconds since the epoch (entries carry it across processes);
 * `random` returns a float in [0, 1).
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /** A float in [0, 1), like `Math.random()`; drives XFetch early refresh and jitter. */
  random(): number;
}

/** The real clock: `Date.now` and `Math.random`. The default wherever a `clock` option exists. */
export const systemClock: Clock = {
  now: Date.now,
  random: Math.random,
};

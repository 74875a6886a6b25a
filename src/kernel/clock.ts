/**
 * Time and randomness, injectable so that expiry, early refresh and jitter are deterministic in tests.
 * `now` is wall-clock milliseconds since the epoch (entries carry it across processes);
 * `random` returns a float in [0, 1).
 */
export interface Clock {
  now(): number;
  random(): number;
}

export const systemClock: Clock = {
  now: Date.now,
  random: Math.random,
};

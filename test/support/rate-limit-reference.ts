/**
 * An independent reference of the three rate limiters, written from their definitions rather than from
 * rate-limit-model.ts: a per-window counter (fixed), per-window counts weighted by overlap (sliding), a token bucket
 * refilled continuously (gcra, tokens kept ×window so they stay integers). `retryAfter` and `resetAt` are found by
 * brute force, trying every later millisecond with nothing else arriving, so the model's closed forms are checked
 * rather than copied.
 */
import type { RateLimitAlgorithm, RateLimitResult } from "../../src/coordination/rate-limit-model.js";

export interface ReferenceLimiter {
  request(now: number, cost: number, peek: boolean): RateLimitResult;
}

export function referenceLimiter(algorithm: RateLimitAlgorithm, limit: number, window: number): ReferenceLimiter {
  if (algorithm === "gcra") return bucket(limit, window);
  const counts = new Map<number, number>();
  const index = (t: number) => Math.floor(t / window);
  // remaining(t) for the counts as they stand.
  const remaining = (t: number): number => {
    const w = index(t);
    const cur = counts.get(w) ?? 0;
    if (algorithm === "fixed") return limit - cur;
    const prev = counts.get(w - 1) ?? 0;
    const weighted = prev * (window - (t - w * window)) + cur * window; // estimate × window
    return Math.max(0, limit - Math.ceil(weighted / window));
  };
  const allows = (t: number, cost: number): boolean => {
    const w = index(t);
    const cur = counts.get(w) ?? 0;
    if (algorithm === "fixed") return cur + cost <= limit;
    const prev = counts.get(w - 1) ?? 0;
    return prev * (window - (t - w * window)) + (cur + cost) * window <= limit * window;
  };
  return {
    request(now, cost, peek) {
      const allowed = allows(now, cost);
      if (allowed && !peek) counts.set(index(now), (counts.get(index(now)) ?? 0) + cost);
      let retryAfter = 0;
      if (!allowed) while (!allows(now + retryAfter, cost)) retryAfter++;
      let resetAt = now;
      while (remaining(resetAt) < limit) resetAt++;
      return { allowed, limit, remaining: remaining(now), resetAt, retryAfter };
    },
  };
}

function bucket(limit: number, window: number): ReferenceLimiter {
  const full = limit * window;
  let tokens = full; // tokens × window
  let at = Number.NEGATIVE_INFINITY;
  const level = (t: number) => (at === Number.NEGATIVE_INFINITY ? full : Math.min(full, tokens + (t - at) * limit));
  return {
    request(now, cost, peek) {
      const current = level(now);
      const allowed = current >= cost * window;
      if (allowed && !peek) {
        tokens = current - cost * window;
        at = now;
      }
      let retryAfter = 0;
      if (!allowed) while (level(now + retryAfter) < cost * window) retryAfter++;
      let resetAt = now;
      while (level(resetAt) < full) resetAt++;
      return { allowed, limit, remaining: Math.floor(level(now) / window), resetAt, retryAfter };
    },
  };
}

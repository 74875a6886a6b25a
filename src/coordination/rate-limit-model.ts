/**
 * The rate limiters' state machine, in exact integer arithmetic — the one JS home of the rules. The memory adapter
 * runs `step`; the Redis script (redis/rate-limit-script.ts) and the Postgres statement (postgres/postgres-rate-limit
 * -store.ts) mirror it line by line, and the property tests hold all of them equal to a reference model. `outcome`
 * turns a step's state into the caller's answer on every backend.
 *
 * - fixed: windows aligned on multiples of `window` since the epoch; at most `limit` per window. A burst of 2×limit
 *   can pass across a window edge (limit at the end of one, limit at the start of the next).
 * - sliding: the sliding window *counter* (two fixed windows, the previous one weighted by how much of it still
 *   overlaps the sliding window): O(1) state. It is exact when the previous window's requests were spread evenly;
 *   in the worst case (all of them at its very end) up to 2×limit can pass in one sliding window, but never more
 *   than limit in one fixed window, and the edge burst of `fixed` is smoothed: at a window's start the previous
 *   window still counts in full.
 * - gcra: the generic cell rate algorithm, a token bucket of `limit` tokens refilled continuously at limit/window:
 *   a burst of `limit`, then one request every window/limit. Time is kept as whole ms plus a remainder in 1/limit ms,
 *   so there is no rounding drift.
 *
 * Integers stay below 2^53: limit ≤ MAX_RATE_LIMIT and window ≤ MAX_RATE_WINDOW_MS keep limit×window under 2^50.
 */

export type RateLimitAlgorithm = "fixed" | "sliding" | "gcra";

export const MAX_RATE_LIMIT = 1_000_000;
export const MAX_RATE_WINDOW_MS = 7 * 86_400_000;

/** One request's parameters, checked (coordination-input.ts). */
export interface RateLimitParams {
  readonly algorithm: RateLimitAlgorithm;
  readonly limit: number;
  readonly windowMs: number;
  /** Weight of this request, 1..limit. */
  readonly cost: number;
}

/**
 * A limiter's state: fixed `[window index, count]`; sliding `[window index, count, previous count]`; gcra
 * `[theoretical arrival time in ms, remainder in 1/limit ms]`.
 */
export type RateState = ReadonlyArray<number>;

/** What a store's step answers: whether the request passes, and the state after it (unchanged when refused). */
export interface RateLimitState {
  readonly allowed: boolean;
  readonly state: RateState;
}

/** The answer of `rateLimit`. Times are epoch ms, durations ms. */
export interface RateLimitResult {
  /** Whether this request may proceed (it was counted unless `peek`). */
  readonly allowed: boolean;
  /** The limit the answer was computed for. */
  readonly limit: number;
  /** How many more requests of cost 1 would pass now. */
  readonly remaining: number;
  /** When the limiter is back to its full `limit` if nothing else arrives (now, when it already is). */
  readonly resetAt: number;
  /** 0 when allowed; otherwise how long until a request of the same cost would pass, if nothing else arrives. */
  readonly retryAfter: number;
}

/** ⌊a / b⌋ for safe integers, exact (a float quotient alone can round onto the next integer). */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  const r = a - q * b;
  if (r < 0) q -= 1;
  else if (r >= b) q += 1;
  return q;
}

/** The stored state brought to `now` (a window that moved on, a bucket that refilled), before any decision. */
export function normalize(params: RateLimitParams, stored: RateState | undefined, now: number): number[] {
  const W = params.windowMs;
  if (params.algorithm === "gcra") {
    const tat = stored?.[0] ?? 0;
    return tat >= now ? [tat, stored?.[1] ?? 0] : [now, 0];
  }
  const w = floorDiv(now, W);
  const sw = stored?.[0];
  if (params.algorithm === "fixed") return [w, sw === w ? (stored?.[1] ?? 0) : 0];
  if (sw === w) return [w, stored?.[1] ?? 0, stored?.[2] ?? 0];
  if (sw === w - 1) return [w, 0, stored?.[1] ?? 0];
  return [w, 0, 0];
}

/** One decision: `consume` records the cost when allowed. */
export function step(
  params: RateLimitParams,
  stored: RateState | undefined,
  now: number,
  consume: boolean,
): RateLimitState {
  const { limit: L, windowMs: W, cost } = params;
  const s = normalize(params, stored, now);
  let allowed: boolean;
  if (params.algorithm === "fixed") {
    allowed = s[1]! + cost <= L;
    if (allowed && consume) s[1] = s[1]! + cost;
  } else if (params.algorithm === "sliding") {
    const elapsed = now - s[0]! * W;
    allowed = s[2]! * (W - elapsed) + (s[1]! + cost) * W <= L * W;
    if (allowed && consume) s[1] = s[1]! + cost;
  } else {
    const [tat, frac] = gcraAdd(s[0]!, s[1]!, cost * W, L);
    allowed = tat < now + W || (tat === now + W && frac === 0);
    if (allowed && consume) {
      s[0] = tat;
      s[1] = frac;
    }
  }
  return { allowed, state: s };
}

/** tat + units/L ms, as whole ms and a remainder in 1/L ms. */
function gcraAdd(tat: number, frac: number, units: number, L: number): [number, number] {
  const total = frac + units;
  const whole = floorDiv(total, L);
  return [tat + whole, total - whole * L];
}

/**
 * How long a store keeps the state after a step at `now`: past that it normalises to empty anyway. One second of
 * slack covers replicas whose clocks disagree with the store's expiry clock (Redis and Postgres expire on their own).
 */
export const RATE_STATE_SLACK_MS = 1000;

export function stateTtlMs(params: RateLimitParams, state: RateState, now: number): number {
  const W = params.windowMs;
  if (params.algorithm === "fixed") return (state[0]! + 1) * W - now + RATE_STATE_SLACK_MS;
  if (params.algorithm === "sliding") return (state[0]! + 2) * W - now + RATE_STATE_SLACK_MS;
  return Math.max(1, state[0]! - now + 1) + RATE_STATE_SLACK_MS;
}

/** The caller's answer for a step's state at `now`. */
export function outcome(params: RateLimitParams, result: RateLimitState, now: number): RateLimitResult {
  const { limit: L, windowMs: W, cost } = params;
  const s = result.state;
  let remaining: number;
  let resetAt: number;
  let retryAfter = 0;
  if (params.algorithm === "fixed") {
    remaining = L - s[1]!;
    resetAt = s[1]! > 0 ? (s[0]! + 1) * W : now;
    if (!result.allowed) retryAfter = (s[0]! + 1) * W - now;
  } else if (params.algorithm === "sliding") {
    const [w, cur, prev] = s as [number, number, number];
    const elapsed = now - w * W;
    // remaining = ⌊(L·W − prev·(W − elapsed) − cur·W) / W⌋
    remaining = Math.max(0, floorDiv(L * W - prev * (W - elapsed) - cur * W, W));
    resetAt = cur > 0 ? (w + 2) * W : prev > 0 ? (w + 1) * W : now;
    if (!result.allowed) {
      if (cur + cost <= L) {
        // Within this window, once enough of the previous one has slid out: prev·(W − e) ≤ (L − cur − cost)·W.
        retryAfter = W - floorDiv((L - cur - cost) * W, prev) - elapsed;
      } else {
        // In the next window, where this window's count becomes the previous one: cur·(W − e) ≤ (L − cost)·W.
        const into = cur > 0 ? Math.max(0, W - floorDiv((L - cost) * W, cur)) : 0;
        retryAfter = W - elapsed + into;
      }
    }
  } else {
    const [tat, frac] = s as [number, number];
    // Requests of cost 1 that still fit: k·W/L ≤ now + W − tat  ⇔  k ≤ ((now + W − tat)·L − frac) / W.
    remaining = Math.max(0, floorDiv((now + W - tat) * L - frac, W));
    resetAt = tat > now || frac > 0 ? tat + (frac > 0 ? 1 : 0) : now;
    if (!result.allowed) {
      const [next, nextFrac] = gcraAdd(tat, frac, cost * W, L);
      retryAfter = next - W - now + (nextFrac > 0 ? 1 : 0);
    }
  }
  return { allowed: result.allowed, limit: L, remaining, resetAt, retryAfter };
}

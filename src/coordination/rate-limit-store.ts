import type { RateLimitParams, RateLimitState } from "./rate-limit-model.js";

/**
 * The rate-limit port: one atomic step of the limiter's state machine (rate-limit-model.ts' `step`, which the memory
 * adapter runs and the Redis script and the Postgres statement mirror). `now` is the caller's clock (the runtime's
 * `clock`), so every backend decides from the same time: replicas need synchronised clocks (NTP), a skew of δ ms
 * shifts a replica's windows by δ.
 */
export interface RateLimitStore {
  /** Decides and, when allowed, records `params.cost` — in one atomic step. */
  consume(key: string, params: RateLimitParams, now: number): Promise<RateLimitState>;
  /** Decides without recording anything. */
  peek(key: string, params: RateLimitParams, now: number): Promise<RateLimitState>;
}

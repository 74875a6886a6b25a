import type { HealthState } from "./events.js";

/** One dependency in `runtime.health()`. */
export interface DependencyHealth {
  /** `ok`, `degraded` (working with failures, or a fallback mode), or `down` (failing every call). */
  readonly state: HealthState;
  /** Wall-clock ms (the runtime's clock) since the dependency has been in this state. */
  readonly since: number;
  /** Why it is in this state; the same string the log line carries. `"ok"` when healthy. */
  readonly reason: string;
  /** `postgres`, `redis`, `memory` (a cache backend), or `push` (a push invalidation channel). */
  readonly kind: string;
}

/**
 * What `runtime.health()` returns. For a readiness probe use `ready`: it is false unless the runtime is started and
 * no Postgres is `down`. A Redis or push channel that is degraded or down does not fail readiness — reads are then
 * served from Postgres (and L1 bypassed while push is down), slower but correct — so alert on those instead of
 * taking replicas out of rotation (which would move their load onto the survivors' same Postgres).
 */
export interface HealthReport {
  /** Started, and no Postgres dependency is down. */
  readonly ready: boolean;
  /** Per dependency: `postgres` (one per postgresModule; `postgres#2`, …), the cache backends by kind (`redis`,
   * `memory`), and `push` (each push invalidation channel). */
  readonly dependencies: Readonly<Record<string, DependencyHealth>>;
}

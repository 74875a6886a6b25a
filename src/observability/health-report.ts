import type { HealthState } from "./events.js";

/** One dependency in `runtime.health()`. */
export interface DependencyHealth {
  /** `ok`, `degraded` (working with failures, or a fallback mode), or `down` (failing every call). */
  readonly state: HealthState;
  /** Wall-clock ms (the runtime's clock) since the dependency has been in this state. */
  readonly since: number;
  /** Why it is in this state; the same string the log line carries. `"ok"` when healthy. */
  readonly reason: string;
  /**
   * `postgres`, `redis`, `memory` (a cache backend), `push` (a push invalidation channel), or `change-capture` (the
   * change-capture relay of a database, when this runtime relays: degraded after a failed batch or replication
   * session, down after three in a row, ok again once one works).
   */
  readonly kind: string;
}

/**
 * What `runtime.health()` returns. For a readiness probe use `ready`: it is false unless the runtime is started and
 * no Postgres is `down`. A Redis or push channel that is degraded or down does not fail readiness — reads are then
 * served from Postgres (and L1 bypassed while push is down), slower but correct — so alert on those instead of
 * taking replicas out of rotation (which would move their load onto the survivors' same Postgres). Nor does a
 * `change-capture` relay that is not ok: out-of-band writes then stay cached longer (until the relay catches up or
 * entries expire), which every replica shares; alert on it.
 */
export interface HealthReport {
  /** Started, and no Postgres dependency is down. */
  readonly ready: boolean;
  /** Per dependency: `postgres` (one per postgresModule; `postgres#2`, …), the cache backends by kind (`redis`,
   * `memory`), `push` (each push invalidation channel), and `change-capture` (each database's relay). */
  readonly dependencies: Readonly<Record<string, DependencyHealth>>;
}

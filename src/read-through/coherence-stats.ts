import type { InvalidationLagStats } from "./invalidation-lag.js";

/** How closely this runtime's cache follows Postgres (`query.stats().coherence`). */
export interface CoherenceStats {
  /** Push invalidation lag: a writer's L2 write to its invalidation reaching this process (see InvalidationLag). */
  readonly invalidationLag: InvalidationLagStats;
  /**
   * Reads answered with data older than the freshest possible: `grace` (an entry past freshness, within grace,
   * because Postgres failed; the same count as `refresh.staleServes`), `earlyRefresh` (a fresh entry served while
   * it refreshes in the background; `refresh.electedBackground`).
   */
  readonly staleServes: {
    /** Past freshness, within grace, Postgres failing. */
    readonly grace: number;
    /** Fresh, served while a background refresh runs. */
    readonly earlyRefresh: number;
  };
  /**
   * Writes the version fence refused because L2 already held a newer version (or the version floor was above them):
   * `fills` after a Postgres read, `writeThroughs` after a commit (an older write landing after a newer one).
   */
  readonly fenceRejections: {
    /** Fills after a Postgres read (a newer version was there: no stale fill). */
    readonly fills: number;
    /** Write-throughs after a commit (a newer write had landed first). */
    readonly writeThroughs: number;
  };
}

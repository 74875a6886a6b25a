/** Fill-lease counters of one document on one runtime (`cache.lease` on; see fill-lease.ts). */
export interface LeaseStats {
  /** Leases this process took: on a miss, or try-only for an early refresh. Each is one Postgres read. */
  readonly granted: number;
  /** Ids that found another process's lease and waited for its fill. */
  readonly waits: number;
  /** Total milliseconds those waits took. */
  readonly waitMs: number;
  /** Waits that reached `lease.maxWait` without a fill (a slow or dead holder, or a lost Redis reply). */
  readonly holderTimeouts: number;
  /** Timed-out waits answered with grace data (the stale entry, within `grace`). */
  readonly graceServes: number;
  /** Timed-out waits that read Postgres themselves (at most a few at once per process). */
  readonly fallbacks: number;
  /** Leased fills dropped because the lease was gone: a write voided it, or it expired under a hung holder. */
  readonly lost: number;
  /** Early refreshes skipped because another process held the lease (it refreshes; this one served the entry). */
  readonly refreshesSkipped: number;
}

/** The live counters behind LeaseStats (plain fields: incremented on the miss path). */
export class LeaseCounters {
  granted = 0;
  waits = 0;
  waitMs = 0;
  holderTimeouts = 0;
  graceServes = 0;
  fallbacks = 0;
  lost = 0;
  refreshesSkipped = 0;

  snapshot(): LeaseStats {
    return {
      granted: this.granted,
      waits: this.waits,
      waitMs: Math.round(this.waitMs),
      holderTimeouts: this.holderTimeouts,
      graceServes: this.graceServes,
      fallbacks: this.fallbacks,
      lost: this.lost,
      refreshesSkipped: this.refreshesSkipped,
    };
  }
}

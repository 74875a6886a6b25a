/** How a database's changes are captured: a trigger-written outbox table, or a logical replication slot. */
export type CaptureMode = "outbox" | "logical";

/**
 * The relay's state in this process:
 * - `"running"`: it drains changes (for logical mode: it owns the slot);
 * - `"standby"`: another process owns the logical slot; this one retries, ready to take over;
 * - `"failing"`: the last attempt failed (Postgres or the cache unreachable); it retries with backoff;
 * - `"off"`: this runtime runs no relay (`changeCapture.relay: false`); another process must.
 */
export type RelayState = "running" | "standby" | "failing" | "off";

/** The health of the logical replication slot (logical mode). */
export interface SlotStats {
  /** The slot's name. */
  readonly name: string;
  /** `pg_replication_slots.wal_status` at the last look (`reserved`, `extended`, `unreserved`, `lost`), if known. */
  readonly walStatus: string | undefined;
  /** Bytes of WAL the slot holds back (`pg_current_wal_lsn() - restart_lsn`) at the last look. */
  readonly retainedBytes: number;
  /** The last commit LSN acknowledged after its fences landed. */
  readonly confirmedLsn: string | undefined;
  /** Times the slot was found lost or invalidated and recreated (each flushed the captured caches). */
  readonly recreated: number;
}

/** `runtime.stats().changeCapture[document]`: the capture of the database the document lives in. */
export interface ChangeCaptureStats {
  /** How the database's changes are captured. */
  readonly mode: CaptureMode;
  /** What this runtime's relay is doing. */
  readonly relay: RelayState;
  /**
   * Age in ms of the oldest change not yet applied, at the last look (0 when caught up): how stale a read can be
   * after an out-of-band write right now. Outbox mode looks at every poll; logical mode measures commit → applied.
   */
  readonly lagMs: number;
  /** Changes waiting at the last look (outbox rows, counted up to 10,000); 0 in logical mode when caught up. */
  readonly depth: number;
  /** Invalidations that changed L2 (an older version dropped, a tombstone or floor raised). */
  readonly applied: number;
  /**
   * Invalidations L2 already had (the writer wrote the version through, a redelivery, or a newer change of the same
   * row in the batch).
   */
  readonly duplicates: number;
  /** Batches that failed (the cache or Postgres unreachable); their changes are redelivered. */
  readonly failed: number;
  /** Whole-document flushes (TRUNCATE, or a lost slot). */
  readonly flushes: number;
  /** Wake-ups by the doorbell (NOTIFY after commit). */
  readonly doorbells: number;
  /** Wake-ups by the poll timer (the safety net). */
  readonly polls: number;
  /** The replication slot (logical mode only). */
  readonly slot?: SlotStats;
}

/**
 * `stratacache:read.batch.start` and `stratacache:read.batch`: one getMany batch past L1 (the ids that L1 did not
 * answer and no read in flight covered), published once at its start and once at its end — the same object, so a
 * subscriber can pair them (the OpenTelemetry adapter makes it the parent span of the batch's Redis and Postgres
 * calls, whose CallEvent.batch points to it). Each id still gets its own `stratacache:read` event.
 */
export interface ReadBatchEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** Ids in the batch. */
  readonly ids: number;
  /** Undefined until the batch ends: ids read from Postgres (L2 had no usable entry). */
  readonly fetched: number | undefined;
  /** Undefined until the batch ends: whether it failed (Postgres failed and some id had no fallback within grace). */
  readonly failed: boolean | undefined;
  /** `performance.timeOrigin + performance.now()` when the batch began. */
  readonly startTime: number;
  /** Milliseconds from start to end; 0 until it ends. */
  readonly durationMs: number;
}

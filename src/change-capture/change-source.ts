import type { CaptureMode, RelayState, SlotStats } from "./capture-stats.js";
import type { CapturedChange } from "./captured-change.js";

/**
 * Applies one batch and resolves once every fence landed; a rejection means nothing of the batch may be
 * acknowledged (the source redelivers it).
 */
export type ChangeSink = (changes: ReadonlyArray<CapturedChange>) => Promise<void>;

/** What a source reports about itself (the relay adds its counters to make ChangeCaptureStats). */
export interface SourceStats {
  readonly relay: RelayState;
  readonly lagMs: number;
  readonly depth: number;
  readonly doorbells: number;
  readonly polls: number;
  readonly failed: number;
  readonly slot?: SlotStats;
}

/**
 * The port a change source implements: the trigger-written outbox (outbox/outbox-source.ts) or a logical
 * replication slot (logical/logical-source.ts). A source delivers committed changes to the sink, in commit order
 * or not (fences order them), at least once, and acknowledges a change only after the sink resolved for it.
 */
export interface ChangeSource {
  readonly mode: CaptureMode;
  /** Starts delivering to `sink` in the background; resolves once the first attempt is under way. */
  start(sink: ChangeSink): Promise<void>;
  /** Stops delivering and closes what the source opened; a batch in flight is not acknowledged. Idempotent. */
  stop(): Promise<void>;
  stats(): SourceStats;
}

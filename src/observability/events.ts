/**
 * The payloads published on stratacache's diagnostics channels (see event-channels.ts for the names). They are
 * public and stable: a field is only ever added. Payloads carry the document id (events are in-process), but the
 * OpenTelemetry adapter never puts ids on metrics, and on spans only when asked to.
 */

import type { ReadBatchEvent } from "./read-batch-events.js";

/** The tier that answered a read. */
export type ReadTier = "l1" | "l2" | "postgres";

/**
 * How a read ended:
 * - `hit`: a fresh cached entry answered (L1 or L2; an L2 entry elected for early refresh is still a hit);
 * - `miss`: the cache had nothing usable, Postgres answered;
 * - `stale`: L2 held an entry past its freshness (or elected for an inline refresh), Postgres answered;
 * - `grace`: Postgres failed and a stale entry within grace answered (stale-if-error);
 * - `coalesced`: the read joined a read of the same id already in flight (the leader's event tells the tier);
 * - `error`: the read failed (Postgres failed with no usable fallback).
 */
export type ReadOutcome = "hit" | "miss" | "stale" | "grace" | "coalesced" | "error";

/** `stratacache:read` (every read, once per id), and `stratacache:read.start` (reads that go past L1). */
export interface ReadEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** The document id. */
  readonly id: string;
  /** Undefined until the read ends, and for `coalesced` and `error`. */
  readonly tier: ReadTier | undefined;
  /** Undefined until the read ends. */
  readonly outcome: ReadOutcome | undefined;
  /** Whether the document exists (false: a read of an id that has no row). */
  readonly found: boolean;
  /** Milliseconds from the start of the read past L1 to its end (`performance.now()`); 0 for L1 hits and coalesced reads. */
  readonly durationMs: number;
  /** `performance.timeOrigin + performance.now()` when the read began, for spans; 0 for L1 hits. */
  readonly startTime: number;
}

/** A dependency a call goes to. */
export type Dependency = "redis" | "postgres";

/** `stratacache:call`: one timed Redis or Postgres call of the read or write path. */
export interface CallEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** Which dependency. */
  readonly dependency: Dependency;
  /** `GET`, `MGET`, `EVALSHA` (the fence script) for Redis; `SELECT` for Postgres. */
  readonly operation: string;
  /** Milliseconds the operation took. */
  readonly durationMs: number;
  /** Wall-clock ms (`performance.timeOrigin + performance.now()`) when the call began. */
  readonly startTime: number;
  /** The failure, when the call failed (it was absorbed or rethrown by the caller). */
  readonly error: unknown;
  /** The read this call was made for (the same object as its `stratacache:read.start` payload), if any. */
  readonly read: ReadEvent | undefined;
  /** The getMany batch this call was made for (the same object as its `stratacache:read.batch.start` payload), if any. */
  readonly batch: ReadBatchEvent | undefined;
}

/** How a fill after a Postgres read ended. `rejected`: the fence kept a newer version (no stale fill). */
export type FillResult = "stored" | "rejected" | "failed" | "too-large" | "too-old";

/** `stratacache:fill`: one entry written to L2 after a Postgres read (fills and background refreshes). */
export interface FillEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** The document id. */
  readonly id: string;
  /** How it ended. */
  readonly result: FillResult;
}

/**
 * What a fill lease event reports:
 * - `granted`: this process took the lease on the key (it loads and fills; on a miss, a re-claim, or try-only);
 * - `waited`: a wait for another process's fill ended — `outcome` `filled` (the entry came), `granted` (the holder
 *   released it or died: the lease came here), `absent` (the holder found nothing: no row, or a loader's
 *   `undefined`), or `timeout` (`maxWait` passed: grace data or an own load follows).
 */
export type LeaseAction = "granted" | "waited";

/** `stratacache:lease`: one fill lease event (README "Fill leases"), for documents and for the cache API's getOrSet. */
export interface LeaseEvent {
  /** The document name, or the cache name for the cache API. */
  readonly document: string;
  /** `document` (a document's entries) or `cache` (a key/value cache's getOrSet). */
  readonly source: "document" | "cache";
  /** The document id, or the cache key. */
  readonly id: string;
  /** What happened (see LeaseAction). */
  readonly action: LeaseAction;
  /** For `waited`: how it ended; undefined for `granted`. */
  readonly outcome: "filled" | "granted" | "absent" | "timeout" | undefined;
  /** For `waited`: milliseconds the wait took; 0 for `granted`. */
  readonly waitMs: number;
}

/** The committed write a write-through follows. */
export type WriteKind = "create" | "update" | "delete";

/** `stratacache:write`: one post-commit write-through to L2 (first attempt; retries are on `stratacache:write.retry`). */
export interface WriteEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** The document id. */
  readonly id: string;
  /** Which committed write it follows. */
  readonly kind: WriteKind;
  /** `rejected`: the fence kept a newer version; `failed`: Redis failed, the retrier took over. */
  readonly result: "stored" | "rejected" | "failed";
  /** Milliseconds the operation took. */
  readonly durationMs: number;
  /** Wall-clock ms (`performance.timeOrigin + performance.now()`) when it began. */
  readonly startTime: number;
}

/**
 * Where an invalidation came from: `local` (a write committed on this runtime), `push` (the cache server's push
 * channel), `change-capture` (reserved for Postgres change capture, when it lands).
 */
export type InvalidationSource = "local" | "push" | "change-capture";

/** `stratacache:invalidate`: one id dropped from L1 (and its fills in flight voided). */
export interface InvalidationEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** The document id. */
  readonly id: string;
  /** Where it came from. */
  readonly source: InvalidationSource;
  /** Whether L1 held the id (push only; undefined for local writes). */
  readonly dropped: boolean | undefined;
}

/** `stratacache:invalidation.lag`: one measured push lag (see InvalidationLagStats for the method and caveats). */
export interface InvalidationLagEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** The document id. */
  readonly id: string;
  /** Receipt of the invalidation here minus the writer's L2 write time, both wall clocks (skew included). */
  readonly lagMs: number;
}

/**
 * Why L1 was flushed whole: `disarm` (the push channel was lost), `flushall` (the server's FLUSHALL/FLUSHDB),
 * `rearm` (the channel armed again: fills begun while disarmed are voided).
 */
export type FlushReason = "disarm" | "flushall" | "rearm";

/** `stratacache:l1.flush`: one document's L1 flushed. */
export interface L1FlushEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** Why. */
  readonly reason: FlushReason;
}

/** `stratacache:push`: a push channel changed state. */
export interface PushEvent {
  /** The health name of the channel (e.g. `push:redis`). */
  readonly channel: string;
  /** The new state. */
  readonly state: "armed" | "disarmed" | "unsupported";
  /** The channel's epoch (bumped on every loss). */
  readonly epoch: number;
  /** Why it disarmed or is unsupported. */
  readonly reason: string | undefined;
}

/** `stratacache:error`: a failure stratacache absorbed (served from another tier, retried, degraded). */
export interface AbsorbedErrorEvent {
  /** The document name (from defineDocument). */
  readonly document: string;
  /** Which dependency. */
  readonly dependency: Dependency;
  /** What failed: `read`, `readMany`, `fill`, `write-through` (Redis); `read` (Postgres, served within grace). */
  readonly operation: string;
  /** The failure as thrown. */
  readonly error: unknown;
}

/** A dependency's state in `runtime.health()`. */
export type HealthState = "ok" | "degraded" | "down";

/** `stratacache:health`: a dependency changed state (the same transitions the logger reports). */
export interface HealthEvent {
  /** Which dependency. */
  readonly dependency: string;
  /** The new state. */
  readonly state: HealthState;
  /** Wall-clock ms (the runtime's clock) of the transition. */
  readonly since: number;
  /** Why; the same string as in `runtime.health()` and the log line. */
  readonly reason: string;
}

import type { DisarmReason, NodeChannelStats } from "./invalidation-channel.js";

/**
 * Whether a cache's L1 is kept honest by push: "armed" (push latency bounds staleness), "disarmed" (the channel is
 * down: L1 flushed and bypassed until it re-arms), "off" (push not asked for: `l1.ttl` bounds staleness), or
 * "unsupported" (asked for, but the server or client cannot: TTL-only, logged once).
 */
export type PushState = "armed" | "disarmed" | "off" | "unsupported";

/** Push invalidation of one cache route (`runtime.stats().caches[name].push`). Counters are per cache server. */
export interface PushStats {
  /** Whether push currently keeps L1 honest; see PushState. */
  readonly state: PushState;
  /** Bumped on every loss of the channel. */
  readonly epoch: number;
  /** Transitions to armed (the first arming included). */
  readonly armings: number;
  /** Transitions from armed to disarmed. */
  readonly disarmings: number;
  /** Why the channel was last disarmed; `undefined` if it never was. */
  readonly lastDisarm: DisarmReason | undefined;
  /** Keys the server reported as written (any key under a tracked prefix). */
  readonly invalidations: number;
  /** L1 entries those invalidations dropped. */
  readonly dropped: number;
  /** Whole-L1 flushes: `disarm` when the channel was lost, `flushall` on the server's FLUSHALL / FLUSHDB. */
  readonly flushes: { readonly disarm: number; readonly flushall: number };
  /** Why push is unsupported, when it is. */
  readonly unsupportedReason: string | undefined;
  /**
   * Per server (`host:port`): its subscriber's state and the invalidations it delivered (every node of a Cluster,
   * the current master under Sentinel). Absent with push off and before the first connection.
   */
  readonly nodes?: Readonly<Record<string, NodeChannelStats>>;
}

export const PUSH_OFF: PushStats = Object.freeze({
  state: "off",
  epoch: 0,
  armings: 0,
  disarmings: 0,
  lastDisarm: undefined,
  invalidations: 0,
  dropped: 0,
  flushes: Object.freeze({ disarm: 0, flushall: 0 }),
  unsupportedReason: undefined,
});

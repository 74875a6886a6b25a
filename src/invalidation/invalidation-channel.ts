/**
 * Push invalidation: a channel that tells this process, as soon as the cache server sees a write, which L2 keys
 * changed, so other replicas' L1 entries are dropped at once instead of aging out.
 *
 * Staleness bounds of an L1 entry with push on (the bounded-staleness invariant: another replica's write is seen):
 * - healthy channel: the push latency (the write reaching Redis, then the invalidation reaching us);
 * - channel fault (close, reconnect, error, protocol error): none beyond the fault itself — any loss synchronously
 *   disarms the channel, bumps its epoch and flushes L1; a silent fault (a server or link that stops answering) is
 *   caught by the heartbeat, so it is bounded by `heartbeatIntervalMs + heartbeatTimeoutMs`;
 * - a write that never reached Redis (a failed write-through): the L2 ttl, as without L1.
 * `l1.ttl` is then only a backstop (it may be long), not the staleness budget it is with push off.
 *
 * While disarmed, L1 is flushed and closed: reads go to L2 and do not fill L1. The channel re-arms only once it is
 * subscribed again, so no invalidation can fall into the gap between a reconnect and the subscription.
 */

/**
 * Why an armed channel was lost. `topology`: a Cluster node joined or left the subscriber set (a subscriber on a
 * new node is not armed yet; a node that left may have taken writes nobody reported).
 */
export type DisarmReason = "close" | "error" | "heartbeat" | "protocol" | "topology";

/** What the channel drives (the invalidation router of one cache backend). */
export interface InvalidationListener {
  /** Keys written since the last message (one-shot); `null` means everything (FLUSHALL / FLUSHDB). */
  invalidate(keys: ReadonlyArray<string> | null): void;
  /** The channel is subscribed: invalidations will arrive from now on; L1 may fill again. */
  armed(epoch: number): void;
  /** The channel was lost (called synchronously on detection): L1 must be flushed and closed. */
  disarmed(reason: DisarmReason, epoch: number): void;
  /** The server cannot push (too old, refused, unsupported client): L1 reverts to TTL-only. Called once. */
  unsupported(reason: string): void;
}

export type ChannelState = "disarmed" | "armed" | "unsupported";

/** Counters of the channel itself (arming and losing); what it delivers is counted by the router. */
export interface ChannelStats {
  readonly state: ChannelState;
  /** Bumped on every loss: a fill that began in an older epoch must not populate L1. */
  readonly epoch: number;
  readonly armings: number;
  readonly disarmings: number;
  readonly lastDisarm: DisarmReason | undefined;
  /** Set once the channel gave up for good (state "unsupported"). */
  readonly unsupportedReason: string | undefined;
  /** Per server (`host:port`): one entry for a single server or a Sentinel master, one per node of a Cluster. */
  readonly nodes?: Readonly<Record<string, NodeChannelStats>>;
}

/** The subscriber on one server of a channel (`runtime.stats().caches[name].push.nodes[address]`). */
export interface NodeChannelStats {
  /** That subscriber's own state: the channel is armed only while every node's is. */
  readonly state: ChannelState;
  /** The node's role as the client last saw it (`undefined` for a single server). */
  readonly role: "master" | "replica" | undefined;
  /** Transitions of this subscriber to armed. */
  readonly armings: number;
  /** Transitions of this subscriber from armed to disarmed. */
  readonly disarmings: number;
  /**
   * Keys this node reported as written. In a Cluster a replica reports its master's writes too (they reach it by
   * replication), so one write counts once per node holding the key.
   */
  readonly invalidations: number;
}

/** One push channel per cache server. */
export interface InvalidationChannel {
  readonly state: ChannelState;
  /**
   * Connects and arms; keeps reconnecting (capped exponential backoff with jitter) until `stop()`.
   * Resolves once the first attempt settled (armed, failed or unsupported); never rejects.
   */
  start(listener: InvalidationListener): Promise<void>;
  /** Closes the connection and cancels every timer. Idempotent. */
  stop(): Promise<void>;
  stats(): ChannelStats;
}

/** Timing of a push channel. */
export interface PushTiming {
  /** Pause between heartbeat PINGs (default 1000 ms). */
  readonly heartbeatIntervalMs: number;
  /** A PING (or a handshake step) unanswered this long loses the channel (default 2000 ms). */
  readonly heartbeatTimeoutMs: number;
  /** First reconnect delay; doubles per failed attempt, with jitter (default 50 ms). */
  readonly reconnectBaseMs: number;
  /** Cap on the reconnect delay (default 1000 ms). */
  readonly reconnectMaxMs: number;
}

export const DEFAULT_PUSH_TIMING: PushTiming = {
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMs: 2_000,
  reconnectBaseMs: 50,
  reconnectMaxMs: 1_000,
};

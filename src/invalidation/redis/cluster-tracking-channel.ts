import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../../kernel/logger.js";
import type {
  ChannelState,
  ChannelStats,
  DisarmReason,
  InvalidationChannel,
  InvalidationListener,
  NodeChannelStats,
  PushTiming,
} from "../invalidation-channel.js";
import { RedisTrackingChannel } from "./redis-tracking-channel.js";

/** Where a Cluster node listens, as the client's connection pool knows it (NAT-mapped already). */
export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface ClusterTrackingChannelOptions {
  readonly cluster: Cluster;
  /** A fresh tracking connection to one node (see RedisTrackingChannelOptions.connect). */
  readonly connect: (node: ClusterNodeAddress) => Redis;
  readonly prefixes: ReadonlyArray<string>;
  readonly timing: PushTiming;
  readonly random: () => number;
  readonly now?: () => number;
  readonly logger: Logger;
}

interface NodeSubscriber {
  readonly channel: RedisTrackingChannel;
  armed: boolean;
  invalidations: number;
}

/**
 * Push invalidation on a Redis Cluster: tracking is per node, so one RedisTrackingChannel (RESP2, BCAST, armed on its
 * SUBSCRIBE reply) runs on every node the client knows — masters and replicas. A replica reports the writes it
 * applies by replication, so a subscriber set that covers replicas stays gapless through a manual failover (both
 * the old and the new master keep delivering).
 *
 * The channel is armed only while every node's subscriber is armed. It disarms (epoch bump, L1 flushed through the
 * listener) when any subscriber is lost, and when the node set changes: a node that joined is not armed yet, and one
 * that left may have taken writes nobody reported. The set is reconciled with the client's connection pool on every
 * `refresh`, `+node` and `-node` the client emits; ioredis refreshes its slots on MOVED and on failed connections,
 * and this channel asks it to every `heartbeatIntervalMs` as well, so a node the application's traffic never touches
 * is still found.
 *
 * Staleness bound during a failover: none beyond the single-server bound for a manual `CLUSTER FAILOVER` (nothing is
 * lost); for a crashed master, its subscriber's close disarms and flushes at once, and the channel re-arms once the
 * client's topology no longer lists the dead node and every remaining subscriber is armed. A node added to the
 * cluster that receives writes before the client learns of it is the one gap: bounded by `heartbeatIntervalMs`
 * plus a refresh round trip (writes moved to it by MIGRATE are reported by the source node as deletions).
 */
export class ClusterTrackingChannel implements InvalidationChannel {
  readonly #nodes = new Map<string, NodeSubscriber>();
  #state: ChannelState = "disarmed";
  #epoch = 0;
  #armings = 0;
  #disarmings = 0;
  #lastDisarm: DisarmReason | undefined;
  #unsupportedReason: string | undefined;
  #listener: InvalidationListener | undefined;
  #stopped = false;
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ClusterTrackingChannelOptions) {}

  get state(): ChannelState {
    return this.#state;
  }

  async start(listener: InvalidationListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error("invalidation channel started twice");
    this.#listener = listener;
    const { cluster } = this.options;
    cluster.on("refresh", this.#reconcile);
    cluster.on("+node", this.#reconcile);
    cluster.on("-node", this.#reconcile);
    cluster.on("ready", this.#reconcile);
    this.#scheduleRefresh();
    await Promise.all(this.#reconcile());
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    const { cluster } = this.options;
    cluster.off("refresh", this.#reconcile);
    cluster.off("+node", this.#reconcile);
    cluster.off("-node", this.#reconcile);
    cluster.off("ready", this.#reconcile);
    if (this.#state === "armed") this.#state = "disarmed";
    const nodes = [...this.#nodes.values()];
    this.#nodes.clear();
    await Promise.all(nodes.map((node) => node.channel.stop()));
  }

  stats(): ChannelStats {
    const masters = new Set(this.options.cluster.nodes("master").map(addressOf));
    const nodes: Record<string, NodeChannelStats> = {};
    for (const [address, node] of this.#nodes) {
      const channel = node.channel.stats();
      nodes[address] = {
        state: channel.state,
        role: masters.has(address) ? "master" : "replica",
        armings: channel.armings,
        disarmings: channel.disarmings,
        invalidations: node.invalidations,
      };
    }
    return {
      state: this.#state,
      epoch: this.#epoch,
      armings: this.#armings,
      disarmings: this.#disarmings,
      lastDisarm: this.#lastDisarm,
      unsupportedReason: this.#unsupportedReason,
      nodes,
    };
  }

  /**
   * Makes the subscriber set match the client's node set; a change disarms (see the class comment). Returns the
   * first-attempt promises of the subscribers it started.
   */
  readonly #reconcile = (): Array<Promise<void>> => {
    if (this.#stopped || this.#state === "unsupported") return [];
    const wanted = new Map<string, ClusterNodeAddress>();
    for (const redis of this.options.cluster.nodes("all"))
      wanted.set(addressOf(redis), redis.options as ClusterNodeAddress);
    const removed = [...this.#nodes.keys()].filter((address) => !wanted.has(address));
    const added = [...wanted.keys()].filter((address) => !this.#nodes.has(address));
    if (removed.length === 0 && added.length === 0) return [];
    this.#lose("topology");
    for (const address of removed) {
      const node = this.#nodes.get(address);
      this.#nodes.delete(address);
      void node?.channel.stop();
    }
    const started: Array<Promise<void>> = [];
    for (const address of added) {
      const { host, port } = wanted.get(address)!;
      const channel = new RedisTrackingChannel({
        connect: () => this.options.connect({ host, port }),
        prefixes: this.options.prefixes,
        timing: this.options.timing,
        random: this.options.random,
        ...(this.options.now ? { now: this.options.now } : {}),
        logger: this.options.logger,
      });
      const node: NodeSubscriber = { channel, armed: false, invalidations: 0 };
      this.#nodes.set(address, node);
      started.push(channel.start(this.#nodeListener(address, node)));
    }
    this.options.logger.debug("push invalidation: cluster subscriber set changed", { added, removed });
    this.#maybeArm();
    return started;
  };

  #nodeListener(address: string, node: NodeSubscriber): InvalidationListener {
    const current = () => this.#nodes.get(address) === node && !this.#stopped;
    return {
      invalidate: (keys) => {
        if (!current()) return;
        if (keys !== null) node.invalidations += keys.length;
        // Before every node is armed, L1 is closed and the arming flushes it: nothing to drop yet.
        if (this.#state === "armed") this.#listener?.invalidate(keys);
      },
      armed: () => {
        if (!current()) return;
        node.armed = true;
        this.#maybeArm();
      },
      disarmed: (reason) => {
        if (!current()) return;
        node.armed = false;
        this.#lose(reason);
        // A lost node is often a failed-over one: let the client find the new topology now rather than on the next
        // command that happens to hit it.
        this.#refreshTopology();
      },
      unsupported: (reason) => {
        if (!current()) return;
        void this.#giveUp(`node ${address}: ${reason}`);
      },
    };
  }

  #maybeArm(): void {
    if (this.#stopped || this.#state !== "disarmed" || this.#nodes.size === 0) return;
    for (const node of this.#nodes.values()) if (!node.armed) return;
    this.#state = "armed";
    this.#armings++;
    this.#listener?.armed(this.#epoch);
  }

  /** Synchronously disarms (the listener flushes L1) and bumps the epoch. */
  #lose(reason: DisarmReason): void {
    this.#epoch++;
    if (this.#state !== "armed") return;
    this.#state = "disarmed";
    this.#disarmings++;
    this.#lastDisarm = reason;
    this.#listener?.disarmed(reason, this.#epoch);
  }

  async #giveUp(reason: string): Promise<void> {
    if (this.#state === "unsupported") return;
    this.#lose("error");
    this.#state = "unsupported";
    this.#unsupportedReason = reason;
    clearTimeout(this.#refreshTimer);
    const nodes = [...this.#nodes.values()];
    this.#listener?.unsupported(reason);
    await Promise.all(nodes.map((node) => node.channel.stop()));
  }

  #scheduleRefresh(): void {
    this.#refreshTimer = setTimeout(() => {
      if (this.#stopped || this.#state === "unsupported") return;
      this.#refreshTopology();
      this.#scheduleRefresh();
    }, this.options.timing.heartbeatIntervalMs);
    this.#refreshTimer.unref();
  }

  #refreshTopology(): void {
    const { cluster } = this.options;
    if (cluster.status !== "ready") return;
    // Errors surface on the client's own 'error'/'node error' events; the next period retries.
    cluster.refreshSlotsCache(() => {});
  }
}

function addressOf(redis: Redis): string {
  return `${redis.options.host}:${redis.options.port}`;
}

import type { Logger } from "../kernel/logger.js";
import { invalidateChannel, l1FlushChannel, pushChannel } from "../observability/event-channels.js";
import type { FlushReason } from "../observability/events.js";
import type { HealthMonitor } from "../observability/health-monitor.js";
import { publishFlush, publishInvalidation } from "../observability/publish.js";
import type { DisarmReason, InvalidationChannel, InvalidationListener } from "./invalidation-channel.js";
import type { PushStats } from "./push-stats.js";

/** The L1 hooks of one document (the read-through coordinator implements them). */
export interface LocalCache {
  /** The document's name, for events. */
  readonly document: string;
  /** Drops one L1 entry and voids any fill in flight for it. */
  invalidateLocal(id: string): void;
  /** Drops every L1 entry and voids every fill in flight. */
  flushLocal(): void;
  /** Closed: reads bypass L1 and do not fill it (closing also flushes). */
  setL1Open(open: boolean): void;
  /** A push invalidation of `id` was applied (for the invalidation lag figures). */
  pushed?(id: string): void;
}

/**
 * Splits a pushed key into a document's entry prefix and an id; undefined for keys that are no entry. The runtime
 * injects the L2 key layout's parser (l2/key-layout.ts), so this tier does not import another.
 */
export type EntryKeyParser = (key: string) => { readonly prefix: string; readonly id: string } | undefined;

interface Target {
  readonly cache: LocalCache;
  readonly l1: { readonly size: number };
}

/**
 * Delivers one cache server's push channel to the L1 of every push-enabled document on it: an invalidated entry key
 * drops that document's entry; a flush or a loss of the channel reaches them all. Documents attach lazily (on first
 * use) and start in the channel's current state, so one registered while disarmed never fills L1 unguarded.
 */
export class InvalidationRouter implements InvalidationListener {
  /** Entry prefix (`<namespace>:<fingerprint>:d:`) → document. */
  readonly #byPrefix = new Map<string, Target>();
  #invalidations = 0;
  #dropped = 0;
  #flushDisarm = 0;
  #flushAll = 0;

  constructor(
    readonly channel: InvalidationChannel,
    private readonly logger: Logger,
    private readonly parseEntryKey: EntryKeyParser,
    /** The channel's entry in runtime.health(): ok when armed, down when disarmed, degraded when unsupported. */
    private readonly health?: HealthMonitor,
  ) {}

  start(): Promise<void> {
    return this.channel.start(this);
  }

  /** Routes invalidations of keys under `entryPrefix` to `cache`, and sets its L1 to the channel's state. */
  attach(entryPrefix: string, cache: LocalCache, l1: { readonly size: number }): void {
    this.#byPrefix.set(entryPrefix, { cache, l1 });
    const state = this.channel.state;
    if (state === "armed" || state === "unsupported") {
      // Void fills begun before the attachment: they were not covered by this channel.
      cache.flushLocal();
      cache.setL1Open(true);
    } else {
      cache.setL1Open(false);
    }
  }

  invalidate(keys: ReadonlyArray<string> | null): void {
    if (keys === null) {
      this.#flushAll++;
      for (const target of this.#byPrefix.values()) target.cache.flushLocal();
      if (l1FlushChannel.hasSubscribers) this.#publishFlush("flushall");
      return;
    }
    this.#invalidations += keys.length;
    for (const key of keys) {
      const parsed = this.parseEntryKey(key);
      if (parsed === undefined) continue; // a kv key, or another document shape's entry
      const target = this.#byPrefix.get(parsed.prefix);
      if (target === undefined) continue;
      const before = target.l1.size;
      target.cache.invalidateLocal(parsed.id);
      const dropped = before - target.l1.size;
      this.#dropped += dropped;
      target.cache.pushed?.(parsed.id);
      if (invalidateChannel.hasSubscribers) {
        publishInvalidation(target.cache.document, parsed.id, "push", dropped > 0);
      }
    }
  }

  armed(epoch: number): void {
    // Fills that began while disarmed read L2 when no invalidation could reach us: void them, then open.
    for (const target of this.#byPrefix.values()) {
      target.cache.flushLocal();
      target.cache.setL1Open(true);
    }
    this.logger.info("push invalidation armed", { epoch });
    if (l1FlushChannel.hasSubscribers) this.#publishFlush("rearm");
    this.#changed("armed", epoch, undefined);
  }

  disarmed(reason: DisarmReason, epoch: number): void {
    this.#flushDisarm++;
    for (const target of this.#byPrefix.values()) target.cache.setL1Open(false);
    this.logger.warn("push invalidation lost; L1 flushed and bypassed until it re-arms", { reason, epoch });
    if (l1FlushChannel.hasSubscribers) this.#publishFlush("disarm");
    this.#changed("disarmed", epoch, reason);
  }

  unsupported(reason: string): void {
    // TTL-only, as with push off: l1.ttl bounds staleness again.
    for (const target of this.#byPrefix.values()) target.cache.setL1Open(true);
    this.logger.warn("push invalidation unavailable; L1 stays TTL-only (l1.ttl bounds cross-replica staleness)", {
      reason,
    });
    this.#changed("unsupported", this.channel.stats().epoch, reason);
  }

  #publishFlush(reason: FlushReason): void {
    for (const target of this.#byPrefix.values()) publishFlush(target.cache.document, reason);
  }

  /** Health and the push event. Disarmed is `down` (L1 bypassed), unsupported `degraded` (TTL-only L1). */
  #changed(state: "armed" | "disarmed" | "unsupported", epoch: number, reason: string | undefined): void {
    const health = this.health;
    if (pushChannel.hasSubscribers) pushChannel.publish({ channel: health?.name ?? "push", state, epoch, reason });
    if (health !== undefined) {
      if (state === "armed") health.set("ok", "armed");
      else if (state === "disarmed") health.set("down", `push channel lost (${reason}); L1 bypassed until it re-arms`);
      else health.set("degraded", `push unavailable (${reason}); L1 is TTL-only`);
    }
  }

  stats(): PushStats {
    const channel = this.channel.stats();
    return {
      state: channel.state,
      epoch: channel.epoch,
      armings: channel.armings,
      disarmings: channel.disarmings,
      lastDisarm: channel.lastDisarm,
      invalidations: this.#invalidations,
      dropped: this.#dropped,
      flushes: { disarm: this.#flushDisarm, flushall: this.#flushAll },
      unsupportedReason: channel.unsupportedReason,
      ...(channel.nodes === undefined ? {} : { nodes: channel.nodes }),
    };
  }
}

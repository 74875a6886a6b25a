import type { Redis } from "ioredis";
import { backoffDelay } from "../../kernel/backoff.js";
import type { Logger } from "../../kernel/logger.js";
import { RateLimitedLog } from "../../kernel/rate-limited-log.js";
import { rejectWith, withTimeout } from "../../kernel/with-timeout.js";
import type {
  ChannelState,
  ChannelStats,
  DisarmReason,
  InvalidationChannel,
  InvalidationListener,
  PushTiming,
} from "../invalidation-channel.js";

const INVALIDATE_CHANNEL = "__redis__:invalidate";

export interface RedisTrackingChannelOptions {
  /**
   * A fresh connection per attempt: lazy (`connect()` is ours), without its own reconnects or resubscription —
   * a new connection has a new client id, so the whole handshake must run again anyway.
   */
  readonly connect: () => Redis;
  /** Key prefixes to track, e.g. `app:products:` (one per push-enabled namespace). */
  readonly prefixes: ReadonlyArray<string>;
  /** Why push cannot work with this client, when known up front. */
  readonly unsupported?: string;
  /** The server's role, for the per-node stats (`"master"` under Sentinel; unset for a single server). */
  readonly role?: "master" | "replica";
  readonly timing: PushTiming;
  readonly random: () => number;
  /** Wall clock for rate-limiting warnings (default Date.now). */
  readonly now?: () => number;
  readonly logger: Logger;
}

/**
 * Push invalidation over Redis CLIENT TRACKING (Redis ≥ 6), in broadcast mode on a dedicated RESP2 connection:
 * `CLIENT ID`, `CLIENT TRACKING ON BCAST PREFIX … REDIRECT <own id>`, `SUBSCRIBE __redis__:invalidate`, and armed on
 * the SUBSCRIBE reply. Redirecting to itself keeps one connection: losing it loses tracking and subscription
 * together, never one without the other (a redirect target that is not subscribed gets nothing, silently).
 * Messages are read as buffers (`messageBuffer`): ioredis joins a key array with commas in `message`.
 */
export class RedisTrackingChannel implements InvalidationChannel {
  #state: ChannelState = "disarmed";
  #epoch = 0;
  #armings = 0;
  #disarmings = 0;
  #lastDisarm: DisarmReason | undefined;
  #unsupportedReason: string | undefined;
  #listener: InvalidationListener | undefined;
  /** The live connection; events from any other (an earlier epoch's) are ignored. */
  #conn: Redis | undefined;
  /** Consecutive failed attempts, for the backoff. */
  #failures = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #pingDeadline: NodeJS.Timeout | undefined;
  #firstSettled: (() => void) | undefined;
  #stopped = false;
  /** `host:port` of the last armed connection (under Sentinel it follows the master), and what it delivered. */
  #address: string | undefined;
  #invalidations = 0;
  readonly #prefixArgs: string[];

  readonly #degraded: RateLimitedLog;

  constructor(private readonly options: RedisTrackingChannelOptions) {
    this.#degraded = new RateLimitedLog(options.logger, { now: options.now ?? Date.now });
    this.#prefixArgs = trackingPrefixes(options.prefixes).flatMap((prefix) => ["PREFIX", prefix]);
  }

  get state(): ChannelState {
    return this.#state;
  }

  start(listener: InvalidationListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error("invalidation channel started twice");
    this.#listener = listener;
    if (this.options.unsupported !== undefined) {
      this.#giveUp(this.options.unsupported);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#firstSettled = resolve;
      void this.#open();
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimers();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#settleFirst();
    const conn = this.#conn;
    this.#conn = undefined;
    if (this.#state === "armed") this.#state = "disarmed";
    if (conn === undefined) return;
    conn.removeAllListeners();
    conn.on("error", () => {});
    try {
      if (conn.status === "ready") await this.#bounded(conn.quit(), "QUIT");
    } catch {
      // Unreachable or slow: the disconnect below closes the socket anyway.
    }
    conn.disconnect();
  }

  stats(): ChannelStats {
    return {
      state: this.#state,
      epoch: this.#epoch,
      armings: this.#armings,
      disarmings: this.#disarmings,
      lastDisarm: this.#lastDisarm,
      unsupportedReason: this.#unsupportedReason,
      ...(this.#address === undefined
        ? {}
        : {
            nodes: {
              [this.#address]: {
                state: this.#state,
                role: this.options.role,
                armings: this.#armings,
                disarmings: this.#disarmings,
                invalidations: this.#invalidations,
              },
            },
          }),
    };
  }

  async #open(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#stopped) return;
    const conn = this.options.connect();
    this.#conn = conn;
    conn.on("error", (error: Error) => this.#lose(conn, "error", error.message));
    conn.on("close", () => this.#lose(conn, "close"));
    conn.on("end", () => this.#lose(conn, "close"));
    conn.on("messageBuffer", (channel: Buffer, message: unknown) => this.#onMessage(conn, channel, message));
    try {
      await this.#bounded(conn.connect(), "connect");
      const id = await this.#bounded(conn.client("ID"), "CLIENT ID");
      await this.#bounded(
        conn.call("CLIENT", "TRACKING", "ON", "BCAST", ...this.#prefixArgs, "REDIRECT", String(id)),
        "CLIENT TRACKING",
      );
      await this.#bounded(conn.subscribe(INVALIDATE_CHANNEL), "SUBSCRIBE");
    } catch (error) {
      if (conn !== this.#conn) return; // already lost (and handled) while the handshake was pending
      const message = error instanceof Error ? error.message : String(error);
      if (isRefusal(error)) {
        this.#giveUp(`the server refused tracking: ${message}`);
        return;
      }
      this.options.logger.debug("push invalidation handshake failed; retrying", { error: message });
      this.#lose(conn, "error", message);
      return;
    }
    if (conn !== this.#conn) return;
    this.#failures = 0;
    const stream = (conn as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
    const address = stream?.remoteAddress === undefined ? undefined : `${stream.remoteAddress}:${stream.remotePort}`;
    if (address !== this.#address) this.#invalidations = 0; // another server (a Sentinel failover): its own count
    this.#address = address;
    this.#state = "armed";
    this.#armings++;
    this.#listener?.armed(this.#epoch);
    this.#scheduleHeartbeat(conn);
    this.#settleFirst();
  }

  #onMessage(conn: Redis, channel: Buffer, message: unknown): void {
    if (conn !== this.#conn || this.#state !== "armed" || channel.toString("latin1") !== INVALIDATE_CHANNEL) return;
    if (message === null) {
      this.#listener?.invalidate(null);
      return;
    }
    if (Array.isArray(message) && message.every((key) => Buffer.isBuffer(key))) {
      this.#invalidations += message.length;
      this.#listener?.invalidate(message.map((key: Buffer) => key.toString("utf8")));
      return;
    }
    this.#lose(conn, "protocol", "unexpected payload on __redis__:invalidate");
  }

  /** Synchronously disarms (flushing L1 through the listener), bumps the epoch, and schedules a reconnect. */
  #lose(conn: Redis, reason: DisarmReason, detail?: string): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#clearTimers();
    conn.removeAllListeners();
    conn.on("error", () => {});
    conn.disconnect();
    this.#epoch++;
    if (this.#state === "armed") {
      this.#state = "disarmed";
      this.#disarmings++;
      this.#lastDisarm = reason;
      this.#listener?.disarmed(reason, this.#epoch);
      if (detail !== undefined) this.options.logger.debug("push invalidation channel lost", { reason, detail });
    } else if (!this.#stopped) {
      // A failed attempt to arm: push staying down must show, at warn, at most once per 10 s.
      this.#degraded.warn("arm", "push invalidation cannot arm; retrying", {
        reason,
        detail,
        attempt: this.#failures + 1,
      });
    }
    this.#settleFirst();
    if (this.#stopped) return;
    const { reconnectBaseMs, reconnectMaxMs } = this.options.timing;
    const delay = backoffDelay(this.#failures++, reconnectBaseMs, reconnectMaxMs, this.options.random);
    this.#reconnectTimer = setTimeout(() => void this.#open(), delay);
    this.#reconnectTimer.unref();
  }

  #giveUp(reason: string): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) {
      conn.removeAllListeners();
      conn.on("error", () => {});
      conn.disconnect();
    }
    this.#state = "unsupported";
    this.#unsupportedReason = reason;
    this.#listener?.unsupported(reason);
    this.#settleFirst();
  }

  #scheduleHeartbeat(conn: Redis): void {
    this.#heartbeatTimer = setTimeout(() => this.#ping(conn), this.options.timing.heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
  }

  #ping(conn: Redis): void {
    if (conn !== this.#conn) return;
    this.#pingDeadline = setTimeout(() => this.#lose(conn, "heartbeat"), this.options.timing.heartbeatTimeoutMs);
    this.#pingDeadline.unref();
    conn.ping().then(
      () => {
        if (conn !== this.#conn) return;
        clearTimeout(this.#pingDeadline);
        this.#scheduleHeartbeat(conn);
      },
      (error: unknown) => this.#lose(conn, "heartbeat", error instanceof Error ? error.message : String(error)),
    );
  }

  #clearTimers(): void {
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#pingDeadline);
    this.#heartbeatTimer = undefined;
    this.#pingDeadline = undefined;
  }

  #settleFirst(): void {
    const settle = this.#firstSettled;
    this.#firstSettled = undefined;
    settle?.();
  }

  /** A handshake step, bounded by the heartbeat timeout: a server that accepts but never answers is a failure. */
  #bounded<T>(promise: Promise<T>, step: string): Promise<T> {
    const timeoutMs = this.options.timing.heartbeatTimeoutMs;
    return withTimeout(promise, timeoutMs, rejectWith(`${step} unanswered after ${timeoutMs} ms`));
  }
}

/** Redis rejects overlapping BCAST prefixes; a shorter prefix already covers every key of a longer one. */
export function trackingPrefixes(prefixes: ReadonlyArray<string>): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const prefix of sorted) if (!kept.some((k) => prefix.startsWith(k))) kept.push(prefix);
  return kept;
}

/** A reply error that retrying will not fix (unknown command, no permission), unlike LOADING or BUSY. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === "ReplyError" &&
    !/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN|READONLY)\b/.test(error.message)
  );
}

import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import { RateLimitedLog } from "../kernel/rate-limited-log.js";
import { rejectWith, withTimeout } from "../kernel/with-timeout.js";
import { healthChannel } from "./event-channels.js";
import type { HealthState } from "./events.js";
import type { DependencyHealth } from "./health-report.js";

/** How often a dependency that is not ok is probed (its ping), so recovery shows even when no call reaches it. */
export const PROBE_INTERVAL_MS = 1_000;

/** A health check: one round trip (`Database.ping`, `CacheBackend.ping`). */
export type HealthProbe = () => Promise<unknown>;

/** Consecutive failed calls after which a degraded dependency counts as down. */
export const DOWN_AFTER_FAILURES = 3;

/**
 * The health of one dependency, fed by the calls made to it: a failure makes it `degraded`, `DOWN_AFTER_FAILURES`
 * in a row make it `down`, and the next success makes it `ok` again. Channels set their state directly. Each
 * transition is logged — degraded and down at warn, rate-limited per dependency; recovery at info — and published
 * on `stratacache:health`, with the same reason string as `health()`. `succeeded()` costs one comparison when ok,
 * so it sits on every L2 and Postgres call of the read path. While not ok, a dependency with a probe is pinged every
 * PROBE_INTERVAL_MS: reads served from L1 (filled from Postgres while L2 failed) would otherwise never show that
 * Redis is back.
 */
export class HealthMonitor {
  #state: HealthState = "ok";
  #since: number;
  #reason = "ok";
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Reaching ok from the initial state (a push channel's first arming) is no recovery: not logged. */
  #starting = false;

  constructor(
    readonly name: string,
    readonly kind: string,
    private readonly clock: Pick<Clock, "now">,
    private readonly log: RateLimitedLog,
    initial?: { readonly state: HealthState; readonly reason: string },
    private readonly probe?: HealthProbe,
  ) {
    this.#since = clock.now();
    if (initial !== undefined) {
      this.#starting = true;
      this.#state = initial.state;
      this.#reason = initial.reason;
    }
  }

  get state(): HealthState {
    return this.#state;
  }

  succeeded(): void {
    if (this.#state !== "ok") this.set("ok", "recovered");
    else this.#failures = 0;
  }

  failed(reason: string): void {
    // After stop, failures are the runtime's own closing (e.g. "the database is closed"), not the dependency's.
    if (this.#stopped) return;
    this.#failures++;
    const state: HealthState = this.#failures >= DOWN_AFTER_FAILURES ? "down" : "degraded";
    if (state !== this.#state) this.set(state, reason);
  }

  /** Sets the state (a transition is logged and published; the same state again is ignored). */
  set(state: HealthState, reason: string): void {
    if (state === this.#state || this.#stopped) return;
    this.#state = state;
    this.#since = this.clock.now();
    this.#reason = state === "ok" ? "ok" : reason;
    if (state === "ok") this.#failures = 0;
    const fields = { dependency: this.name, state, reason };
    if (state === "ok" && this.#starting) this.#starting = false;
    else if (state === "ok") this.log.info(`health:${this.name}`, `${this.name} recovered`, fields);
    else this.log.warn(`health:${this.name}:${state}`, `${this.name} ${state}: ${reason}`, fields);
    if (healthChannel.hasSubscribers) {
      healthChannel.publish({ dependency: this.name, state, since: this.#since, reason });
    }
    if (state !== "ok") this.#scheduleProbe();
  }

  /** No more probes (the runtime stops). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #scheduleProbe(): void {
    const probe = this.probe;
    if (probe === undefined || this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      const timeout = rejectWith(`ping unanswered after ${PROBE_INTERVAL_MS} ms`);
      withTimeout(probe(), PROBE_INTERVAL_MS, timeout, { unref: true }).then(
        () => this.#probed(undefined),
        (error: unknown) => this.#probed(error),
      );
    }, PROBE_INTERVAL_MS);
    this.#timer.unref();
  }

  #probed(error: unknown): void {
    this.#timer = undefined;
    if (this.#stopped || this.#state === "ok") return;
    if (error === undefined) this.succeeded();
    else {
      this.failed(`ping failed: ${error instanceof Error ? error.message : String(error)}`);
      this.#scheduleProbe();
    }
  }

  snapshot(): DependencyHealth {
    return { state: this.#state, since: this.#since, reason: this.#reason, kind: this.kind };
  }
}

/** Every dependency of a runtime, by object (a database, a cache backend, a push channel) and by name. */
export class HealthBoard {
  readonly #byOwner = new Map<object, HealthMonitor>();
  readonly #counts = new Map<string, number>();
  readonly #log: RateLimitedLog;

  constructor(
    private readonly clock: Pick<Clock, "now">,
    logger: Logger,
  ) {
    this.#log = new RateLimitedLog(logger, clock);
  }

  /** Registers `owner` under `kind` (named `kind`, then `kind#2`, …), in an initial state (not logged). */
  add(
    owner: object,
    kind: string,
    initial?: { readonly state: HealthState; readonly reason: string },
    probe?: HealthProbe,
  ): HealthMonitor {
    const base = kind;
    const n = (this.#counts.get(base) ?? 0) + 1;
    this.#counts.set(base, n);
    const monitor = new HealthMonitor(n === 1 ? base : `${base}#${n}`, kind, this.clock, this.#log, initial, probe);
    this.#byOwner.set(owner, monitor);
    return monitor;
  }

  /** Stops every probe. */
  stop(): void {
    for (const monitor of this.#byOwner.values()) monitor.stop();
  }

  of(owner: object): HealthMonitor | undefined {
    return this.#byOwner.get(owner);
  }

  snapshot(): Record<string, DependencyHealth> {
    const out: Record<string, DependencyHealth> = {};
    for (const monitor of this.#byOwner.values()) out[monitor.name] = monitor.snapshot();
    return out;
  }

  /** Whether every dependency of `kind` is not down. */
  noneDown(kind: string): boolean {
    for (const monitor of this.#byOwner.values()) if (monitor.kind === kind && monitor.state === "down") return false;
    return true;
  }
}

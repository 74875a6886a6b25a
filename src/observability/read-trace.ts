import { callChannel, readChannel, readStartChannel } from "./event-channels.js";
import type { Dependency, ReadEvent, ReadOutcome, ReadTier } from "./events.js";
import { publishCall, wallNow } from "./publish.js";

/**
 * One read past L1, observed: created only when a read, read.start or call channel has a subscriber, so an
 * unobserved read allocates nothing for it. It is itself the ReadEvent payload (the same object is published on
 * `read.start` and `read`, so a subscriber can pair them, as with a TracingChannel's context object).
 */
export class ReadTrace implements ReadEvent {
  tier: ReadTier | undefined = undefined;
  outcome: ReadOutcome | undefined = undefined;
  found = false;
  durationMs = 0;
  readonly startTime = wallNow();
  /** The read's first call starts as it begins: no callStart() (one clock read fewer per observed read). */
  #callStart = this.startTime;

  private constructor(
    readonly document: string,
    readonly id: string,
  ) {}

  /** A trace when someone listens, else undefined (the coordinator then skips every `trace?.` call). */
  static begin(document: string, id: string): ReadTrace | undefined {
    if (!readChannel.hasSubscribers && !readStartChannel.hasSubscribers && !callChannel.hasSubscribers) {
      return undefined;
    }
    const trace = new ReadTrace(document, id);
    if (readStartChannel.hasSubscribers) readStartChannel.publish(trace);
    return trace;
  }

  /** Before a Redis or Postgres call (not needed before the first, which starts with the read). */
  callStart(): void {
    this.#callStart = wallNow();
  }

  /** After it; `error` when it failed. */
  callEnd(dependency: Dependency, operation: string, error?: unknown): void {
    if (callChannel.hasSubscribers) publishCall(this.document, dependency, operation, this.#callStart, error, this);
  }

  /** The read ended: published once. */
  end(tier: ReadTier | undefined, outcome: ReadOutcome, found: boolean): void {
    if (this.outcome !== undefined) return;
    this.tier = tier;
    this.outcome = outcome;
    this.found = found;
    this.durationMs = wallNow() - this.startTime;
    if (readChannel.hasSubscribers) readChannel.publish(this);
  }
}

/**
 * The per-id read events of one getMany batch past L1, published when it ends: ids not fetched were L2 hits;
 * fetched ids were answered by Postgres (`stale` when L2 held an entry past freshness), or by a fallback within
 * grace when Postgres failed (`pgFailed`).
 */
export function publishBatchReads(
  document: string,
  ids: ReadonlyArray<string>,
  found: (id: string) => boolean,
  fetched: ReadonlyArray<string>,
  staleIds: { has(id: string): boolean } | undefined,
  pgFailed: boolean,
  startTime: number,
): void {
  const durationMs = wallNow() - startTime;
  for (const id of ids) {
    const wasFetched = fetched.includes(id);
    const outcome: ReadOutcome = !wasFetched
      ? "hit"
      : pgFailed
        ? "grace"
        : staleIds?.has(id) === true
          ? "stale"
          : "miss";
    const event: ReadEvent = {
      document,
      id,
      tier: wasFetched && !pgFailed ? "postgres" : "l2",
      outcome,
      found: found(id),
      durationMs,
      startTime,
    };
    readChannel.publish(event);
  }
}

import {
  callChannel,
  errorChannel,
  fillChannel,
  invalidateChannel,
  l1FlushChannel,
  leaseChannel,
  readChannel,
  writeChannel,
} from "./event-channels.js";
import type {
  AbsorbedErrorEvent,
  Dependency,
  FillResult,
  FlushReason,
  InvalidationSource,
  LeaseEvent,
  ReadEvent,
  WriteKind,
} from "./events.js";
import type { ReadBatchEvent } from "./read-batch-events.js";

/*
 * Publish helpers. Every call site checks the channel's `hasSubscribers` first (so nothing is built without a
 * subscriber); these only build the payload and publish it.
 */

/** `performance.timeOrigin` read once: it is a getter, and wallNow runs several times per observed read. */
const TIME_ORIGIN = performance.timeOrigin;

/** Wall-clock ms with sub-ms precision, comparable with `Date.now()`: what spans take as start and end times. */
export function wallNow(): number {
  return TIME_ORIGIN + performance.now();
}

/** A read answered by L1. */
export function publishL1Hit(document: string, id: string): void {
  const event: ReadEvent = { document, id, tier: "l1", outcome: "hit", found: true, durationMs: 0, startTime: 0 };
  readChannel.publish(event);
}

/** A read that joined a read of the same id in flight. */
export function publishCoalesced(document: string, id: string): void {
  const event: ReadEvent = {
    document,
    id,
    tier: undefined,
    outcome: "coalesced",
    found: true,
    durationMs: 0,
    startTime: 0,
  };
  readChannel.publish(event);
}

/** A Redis or Postgres call that began at `startTime` (wallNow) and ended now. */
export function publishCall(
  document: string,
  dependency: Dependency,
  operation: string,
  startTime: number,
  error: unknown,
  read?: ReadEvent,
  batch?: ReadBatchEvent,
): void {
  const end = wallNow();
  callChannel.publish({ document, dependency, operation, durationMs: end - startTime, startTime, error, read, batch });
}

export function publishFill(document: string, id: string, result: FillResult): void {
  fillChannel.publish({ document, id, result });
}

export function publishLease(
  document: string,
  source: LeaseEvent["source"],
  id: string,
  action: LeaseEvent["action"],
  outcome: LeaseEvent["outcome"],
  waitMs: number,
): void {
  const event: LeaseEvent = { document, source, id, action, outcome, waitMs };
  leaseChannel.publish(event);
}

export function publishWrite(
  document: string,
  id: string,
  kind: WriteKind,
  result: "stored" | "rejected" | "failed",
  startTime: number,
): void {
  writeChannel.publish({ document, id, kind, result, startTime, durationMs: wallNow() - startTime });
}

export function publishInvalidation(
  document: string,
  id: string,
  source: InvalidationSource,
  dropped: boolean | undefined,
): void {
  invalidateChannel.publish({ document, id, source, dropped });
}

export function publishFlush(document: string, reason: FlushReason): void {
  l1FlushChannel.publish({ document, reason });
}

export function publishAbsorbed(document: string, dependency: Dependency, operation: string, error: unknown): void {
  const event: AbsorbedErrorEvent = { document, dependency, operation, error };
  errorChannel.publish(event);
}

import type {
  CacheErrorEvent,
  CacheReadEvent,
  CacheReadOp,
  CacheReadOutcome,
  CacheReadTier,
  CacheWriteEvent,
  CacheWriteOp,
} from "./cache-events.js";
import { cacheErrorChannel, cacheReadChannel, cacheWriteChannel } from "./event-channels.js";

/*
 * Publish helpers of the key/value cache API. As in publish.ts, every call site checks the channel's
 * `hasSubscribers` first; `startedAt` is the caller's `performance.now()` at the start of the call.
 */

/** Whether a key/value read or write would be published (the caller then reads the clock at its start). */
export function cacheObserved(): boolean {
  return cacheReadChannel.hasSubscribers || cacheWriteChannel.hasSubscribers;
}

/** One ended read call. `startedAt` 0: an L1 hit of the synchronous getOrSet path (untimed). */
export function publishCacheRead(
  cache: string,
  op: CacheReadOp,
  key: string | undefined,
  keys: number,
  tier: CacheReadTier | undefined,
  outcome: CacheReadOutcome,
  l1Hits: number,
  l2Hits: number,
  startedAt: number,
  error?: unknown,
): void {
  const event: CacheReadEvent = {
    cache,
    op,
    key,
    keys,
    tier,
    outcome,
    l1Hits,
    l2Hits,
    misses: outcome === "error" ? 0 : keys - l1Hits - l2Hits,
    durationMs: startedAt === 0 ? 0 : performance.now() - startedAt,
    startTime: startedAt === 0 ? 0 : performance.timeOrigin + startedAt,
    error,
  };
  cacheReadChannel.publish(event);
}

/** One ended write call. */
export function publishCacheWrite(
  cache: string,
  op: CacheWriteOp,
  key: string | undefined,
  keys: number,
  result: CacheWriteEvent["result"],
  startedAt: number,
  error?: unknown,
): void {
  const event: CacheWriteEvent = {
    cache,
    op,
    key,
    keys,
    result,
    durationMs: performance.now() - startedAt,
    startTime: performance.timeOrigin + startedAt,
    error,
  };
  cacheWriteChannel.publish(event);
}

/** A store failure getOrSet absorbed. */
export function publishCacheError(cache: string, operation: CacheErrorEvent["operation"], error: unknown): void {
  const event: CacheErrorEvent = { cache, operation, error };
  cacheErrorChannel.publish(event);
}

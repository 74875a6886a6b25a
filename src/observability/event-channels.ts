import diagnostics_channel from "node:diagnostics_channel";

/**
 * The names of stratacache's `node:diagnostics_channel` channels: public and stable. Subscribe with
 * `diagnostics_channel.subscribe(STRATACACHE_CHANNELS.read, fn)`. Nothing is built or published unless a channel
 * has a subscriber: every publish point checks `hasSubscribers` first, so the L1 hit path pays one property read.
 * Payload types are in events.ts; order within one read: `read.start`, then its `call`s, `fill`s, then `read`.
 */
export const STRATACACHE_CHANNELS = Object.freeze({
  /** ReadEvent: a read past L1 began (reads answered by L1 have no start). */
  readStart: "stratacache:read.start",
  /** ReadEvent: a read ended, once per id (L1 hits included). */
  read: "stratacache:read",
  /** CallEvent: a timed Redis or Postgres call of a read or write. */
  call: "stratacache:call",
  /** FillEvent: an entry written (or refused) after a Postgres read. */
  fill: "stratacache:fill",
  /** LeaseEvent: a fill lease granted to this process, or a wait for another process's fill that ended. */
  lease: "stratacache:lease",
  /** WriteEvent: a post-commit write-through. */
  write: "stratacache:write",
  /** InvalidationEvent: an id dropped from L1 by a local write or a push. */
  invalidate: "stratacache:invalidate",
  /** InvalidationLagEvent: a measured push invalidation lag. */
  invalidationLag: "stratacache:invalidation.lag",
  /** L1FlushEvent: a document's whole L1 flushed. */
  l1Flush: "stratacache:l1.flush",
  /** PushEvent: a push channel armed, disarmed, or gave up. */
  push: "stratacache:push",
  /** AbsorbedErrorEvent: a failure absorbed by the cache. */
  error: "stratacache:error",
  /** HealthEvent: a dependency changed state. */
  health: "stratacache:health",
  // --- key/value cache API (payloads in cache-events.ts) ---
  /** CacheReadEvent: a key/value read call ended (get, getMany, getOrSet, getManyOrSet, exists, pull, ttl). */
  cacheRead: "stratacache:cache.read",
  /** CacheWriteEvent: a key/value write, fill, delete or invalidation call ended. */
  cacheWrite: "stratacache:cache.write",
  /** CacheErrorEvent: a store failure getOrSet absorbed. */
  cacheError: "stratacache:cache.error",
  // --- end key/value cache API ---
  /** WriteRetryEvent: a failed write-through's retry scheduled, landed, or given up (write-retry-events.ts). */
  writeRetry: "stratacache:write.retry",
  /** ReadBatchEvent: a getMany batch past L1 began (read-batch-events.ts). */
  readBatchStart: "stratacache:read.batch.start",
  /** ReadBatchEvent: a getMany batch past L1 ended (the same object as its start). */
  readBatch: "stratacache:read.batch",
});

export const readStartChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.readStart);
export const readChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.read);
export const callChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.call);
export const fillChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.fill);
export const leaseChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.lease);
export const writeChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.write);
export const invalidateChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.invalidate);
export const invalidationLagChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.invalidationLag);
export const l1FlushChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.l1Flush);
export const pushChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.push);
export const errorChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.error);
export const healthChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.health);
// --- key/value cache API ---
export const cacheReadChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.cacheRead);
export const cacheWriteChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.cacheWrite);
export const cacheErrorChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.cacheError);
// --- write-through retries ---
export const writeRetryChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.writeRetry);
// --- getMany batches ---
export const readBatchStartChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.readBatchStart);
export const readBatchChannel = diagnostics_channel.channel(STRATACACHE_CHANNELS.readBatch);

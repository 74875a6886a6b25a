// The public surface of stratacache. Nothing else is exported; everything here is stable.

export type {
  BatchLoader,
  Cache,
  CacheWriteOptions,
  CounterOptions,
  EarlyRefreshOptions,
  GetOrSetLeaseOptions,
  GetOrSetOptions,
  Loader,
  LoaderContext,
  LoaderTimeouts,
} from "./cache/cache.js";
export type { CacheFake, CacheFakeOptions, RecordedCall } from "./cache/cache-fake.js";
export { createCacheFake } from "./cache/cache-fake.js";
export type {
  CacheOperation,
  CacheOperationListener,
  CacheOperationName,
  CacheOperationOptions,
} from "./cache/cache-operation.js";
export type { CacheStats, TimeoutCounts } from "./cache/cache-stats.js";
export type { CaptureMode, ChangeCaptureStats, RelayState, SlotStats } from "./change-capture/capture-stats.js";
export { UNINSTALL_CAPTURE_SQL as changeCaptureUninstallSql } from "./change-capture/outbox/outbox-ddl.js";
export { CacheLock } from "./coordination/cache-lock.js";
export type {
  AcquireOptions,
  LockOptions,
  RateLimitOptions,
  RetryOptions,
  WithLockOptions,
} from "./coordination/coordination-input.js";
export type { RateLimitAlgorithm, RateLimitResult } from "./coordination/rate-limit-model.js";
export type {
  ChannelState,
  DisarmReason,
  NodeChannelStats,
  PushTiming,
} from "./invalidation/invalidation-channel.js";
export type { PushState, PushStats } from "./invalidation/push-stats.js";
export type { Clock } from "./kernel/clock.js";
export { systemClock } from "./kernel/clock.js";
export type { Duration, DurationUnit } from "./kernel/duration.js";
export type { StrataErrorCode, ValidationIssue } from "./kernel/errors.js";
export {
  AbortError,
  ConfigurationError,
  ConflictError,
  LockLostError,
  LockTimeoutError,
  NotFoundError,
  RuntimeStateError,
  StrataError,
  TenantRequiredError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from "./kernel/errors.js";
export type { Logger } from "./kernel/logger.js";
export { consoleLogger, silentLogger } from "./kernel/logger.js";
export type { CreateL1StoreOptions } from "./l1/create-l1-store.js";
export { createL1Store } from "./l1/create-l1-store.js";
export type { L1PolicyName, L1Stats, L1Store, L1StoreFactory, L1StoreOptions } from "./l1/l1-store.js";
export type { CachePort, CacheSetOptions, CacheValue } from "./l2/cache-port.js";
export type {
  CacheErrorEvent,
  CacheReadEvent,
  CacheReadOp,
  CacheReadOutcome,
  CacheReadTier,
  CacheWriteEvent,
  CacheWriteOp,
} from "./observability/cache-events.js";
export { STRATACACHE_CHANNELS } from "./observability/event-channels.js";
export type {
  AbsorbedErrorEvent,
  CallEvent,
  Dependency,
  FillEvent,
  FillResult,
  FlushReason,
  HealthEvent,
  HealthState,
  InvalidationEvent,
  InvalidationLagEvent,
  InvalidationSource,
  L1FlushEvent,
  LeaseAction,
  LeaseEvent,
  PushEvent,
  ReadEvent,
  ReadOutcome,
  ReadTier,
  WriteEvent,
  WriteKind,
} from "./observability/events.js";
export type { DependencyHealth, HealthReport } from "./observability/health-report.js";
export type { ReadBatchEvent } from "./observability/read-batch-events.js";
export type { WriteRetryEvent, WriteRetryState } from "./observability/write-retry-events.js";
export type { CoherenceStats } from "./read-through/coherence-stats.js";
export type { DocumentCommand } from "./read-through/document-command.js";
export type { DocumentQuery, ReadOptions } from "./read-through/document-query.js";
export type { DocumentStats, L2Stats, RefreshStats, SourceStats } from "./read-through/document-stats.js";
export type { InvalidationLagStats } from "./read-through/invalidation-lag.js";
export type { LeaseStats } from "./read-through/lease-stats.js";
export type { PgPoolClientLike, PgPoolLike } from "./repository/postgres/pg-driver.js";
export type { PGliteLike, PGliteQueryable } from "./repository/postgres/pglite-driver.js";
export type { Context } from "./runtime/context.js";
export type { RuntimeModule } from "./runtime/module.js";
export { cacheModulesFromEnv } from "./runtime/modules/cache-modules-from-env.js";
export type { KvL1Options, KvLeaseOptions } from "./runtime/modules/kv-route-options.js";
export type { MemoryCacheModuleOptions, MemoryCacheOptions } from "./runtime/modules/memory-cache-module.js";
export { memoryCacheModule } from "./runtime/modules/memory-cache-module.js";
export type { NullCacheModuleOptions, NullCacheOptions } from "./runtime/modules/null-cache-module.js";
export { nullCacheModule } from "./runtime/modules/null-cache-module.js";
export type {
  PostgresCacheModuleOptions,
  PostgresCacheOptions,
} from "./runtime/modules/postgres-cache-module.js";
export { postgresCacheModule } from "./runtime/modules/postgres-cache-module.js";
export type { ChangeRelayOptions, DocumentCaptureOption } from "./runtime/modules/postgres-change-capture.js";
export type { PostgresDocumentOptions, PostgresModuleOptions } from "./runtime/modules/postgres-module.js";
export { postgresModule } from "./runtime/modules/postgres-module.js";
export type {
  RedisCacheOptions,
  RedisClientLike,
  RedisModuleOptions,
  SentinelAddress,
} from "./runtime/modules/redis-module.js";
export { redisModule } from "./runtime/modules/redis-module.js";
export type { ContextOptions, Runtime, RuntimeOptions, RuntimeState, RuntimeStats } from "./runtime/runtime.js";
export { createRuntime } from "./runtime/runtime.js";
export type { CompressionOptions } from "./sealing/compression.js";
export type { KeyringKey, KeyringOptions } from "./sealing/keyring.js";
export { Keyring, keyring } from "./sealing/keyring.js";
export type { SealingOptions } from "./sealing/sealing-options.js";
export type { SealingStats } from "./sealing/sealing-stats.js";
export type { DefineDocumentInput } from "./spec/define-document.js";
export { defineDocument } from "./spec/define-document.js";
export type {
  CacheSpec,
  CacheSpecInput,
  CreateInput,
  Doc,
  DocumentFields,
  DocumentMeta,
  DocumentSpec,
  L1Spec,
  LeaseSpec,
  Patch,
} from "./spec/document-spec.js";
export type { TenancyOption } from "./tenancy/tenancy-options.js";

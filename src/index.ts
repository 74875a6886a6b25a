// The public surface of stratacache. Nothing else is exported; everything here is stable.

export type { DisarmReason, PushTiming } from "./invalidation/invalidation-channel.js";
export type { PushState, PushStats } from "./invalidation/push-stats.js";
export { createL1Store } from "./l1/create-l1-store.js";
export type { L1PolicyName, L1Stats, L1Store, L1StoreFactory, L1StoreOptions } from "./l1/l1-store.js";
export type { CachePort, CacheSetOptions, CacheValue } from "./l2/cache-port.js";
export type { MemoryCacheModuleOptions, MemoryCacheOptions } from "./l2/memory/memory-cache-module.js";
export { memoryCacheModule } from "./l2/memory/memory-cache-module.js";
export type { RedisCacheOptions, RedisClientLike, RedisModuleOptions } from "./l2/redis/redis-module.js";
export { redisModule } from "./l2/redis/redis-module.js";
export type { DocumentStats, L2Stats, RefreshStats, SourceStats } from "./repository/cached/document-stats.js";
export type { DocumentCommand } from "./repository/document-command.js";
export type { DocumentQuery, ReadOptions } from "./repository/document-query.js";
export type { PgPoolClientLike, PgPoolLike } from "./repository/postgres/pg-driver.js";
export type { PostgresDocumentOptions, PostgresModuleOptions } from "./repository/postgres/postgres-module.js";
export { postgresModule } from "./repository/postgres/postgres-module.js";
export type { Clock } from "./runtime/clock.js";
export { systemClock } from "./runtime/clock.js";
export type { Context } from "./runtime/context.js";
export type { Logger } from "./runtime/logger.js";
export { consoleLogger, silentLogger } from "./runtime/logger.js";
export type { RuntimeModule } from "./runtime/module.js";
export type { Runtime, RuntimeOptions, RuntimeState, RuntimeStats } from "./runtime/runtime.js";
export { createRuntime } from "./runtime/runtime.js";
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
  Patch,
} from "./spec/document-spec.js";
export type { Duration, DurationUnit } from "./spec/duration.js";
export type { StrataErrorCode, ValidationIssue } from "./spec/errors.js";
export {
  AbortError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  RuntimeStateError,
  StrataError,
  UnavailableError,
  ValidationError,
} from "./spec/errors.js";

/**
 * The peers other than bentocache (support/bentocache.ts), loaded from bench/node_modules through
 * bench-packages.ts and typed with the little the benchmarks call: cacheable, cache-manager with Keyv and its Redis
 * store (@keyv/redis, the store cache-manager's docs recommend), @epic-web/cachified and layered-loader.
 */
import { importBenchPackage } from "./bench-packages.js";

/** A Keyv instance: the store cacheable and cache-manager layer over. */
export interface KeyvLike {
  disconnect(): Promise<void>;
}

export interface CacheableLike {
  getOrSet<T>(key: string, fn: () => T | Promise<T>, options?: { ttl?: number | string }): Promise<T | undefined>;
  getMany<T>(keys: string[]): Promise<Array<T | undefined>>;
  setMany(items: Array<{ key: string; value: unknown; ttl?: number | string }>): Promise<boolean>;
  disconnect(): Promise<void>;
}

export interface CacheableModule {
  readonly Cacheable: new (options?: {
    primary?: KeyvLike;
    secondary?: KeyvLike;
    ttl?: number | string;
  }) => CacheableLike;
  /** The in-memory store (from @cacheable/memory, re-exported), usable as a Keyv store. */
  readonly CacheableMemory: new (options?: {
    useClone?: boolean;
    lruSize?: number;
    ttl?: number | string;
  }) => unknown;
  /** An in-memory Keyv (KeyvCacheableMemory): cacheable's default primary. */
  readonly createKeyv: (options?: { useClone?: boolean; lruSize?: number; ttl?: number | string }) => KeyvLike;
}

export interface CacheManagerLike {
  wrap<T>(key: string, fn: () => T | Promise<T>, ttl?: number): Promise<T>;
  mget<T>(keys: string[]): Promise<Array<T | undefined>>;
  mset<T>(list: Array<{ key: string; value: T; ttl?: number }>): Promise<unknown>;
  disconnect(): Promise<unknown>;
}

export interface CacheManagerModule {
  readonly createCache: (options: { stores: KeyvLike[]; ttl?: number }) => CacheManagerLike;
}

export interface KeyvModules {
  readonly Keyv: new (options: { store: unknown; namespace?: string }) => KeyvLike;
  /** @keyv/redis' `createKeyv(url, { namespace })`: a Keyv over node-redis (@redis/client). */
  readonly createRedisKeyv: (url: string, options?: { namespace?: string }) => KeyvLike;
}

export interface CachifiedEntry {
  readonly metadata: { readonly createdTime: number; readonly ttl?: number | null; readonly swr?: number | null };
  readonly value: unknown;
}

export interface CachifiedCache {
  get(key: string): CachifiedEntry | null | undefined | Promise<CachifiedEntry | null | undefined>;
  set(key: string, value: CachifiedEntry): unknown;
  delete(key: string): unknown;
}

export type CachifiedFreshValue = (context: unknown) => unknown;

export interface CachifiedModule {
  readonly cachified: (options: {
    key: string;
    cache: CachifiedCache | Map<string, unknown>;
    getFreshValue: CachifiedFreshValue;
    ttl: number;
  }) => Promise<unknown>;
  readonly createBatch: <V, P>(load: (params: P[]) => V[] | Promise<V[]>) => { add(param: P): CachifiedFreshValue };
  readonly totalTtl: (metadata: CachifiedEntry["metadata"] | undefined) => number;
}

export interface LayeredLoaderLike<T> {
  get(key: string): Promise<T | undefined | null>;
  getMany(keys: string[]): Promise<T[]>;
}

export interface LayeredLoaderModule {
  readonly Loader: new <T>(config: {
    inMemoryCache: false | { cacheType?: "lru-map" | "lru-object" | "fifo-map"; ttlInMsecs: number; maxItems: number };
    asyncCache?: unknown;
    dataSourceGetOneFn: (key: string) => Promise<T | undefined | null>;
    dataSourceGetManyFn?: (keys: string[]) => Promise<T[]>;
    cacheKeyFromValueResolver?: (value: T) => string;
  }) => LayeredLoaderLike<T>;
  /** `new RedisCache(ioredisClient, { prefix, json, ttlInMsecs, timeoutInMsecs? })`; the client is left open. */
  readonly RedisCache: new (
    redis: unknown,
    config: { prefix?: string; json: boolean; ttlInMsecs: number; timeoutInMsecs?: number },
  ) => unknown;
}

export function loadCacheable(): Promise<CacheableModule> {
  return importBenchPackage<CacheableModule>("cacheable");
}

export function loadCachified(): Promise<CachifiedModule> {
  return importBenchPackage<CachifiedModule>("@epic-web/cachified");
}

export function loadCacheManager(): Promise<CacheManagerModule> {
  return importBenchPackage<CacheManagerModule>("cache-manager");
}

export async function loadKeyv(): Promise<KeyvModules> {
  const [{ Keyv }, { createKeyv }] = await Promise.all([
    importBenchPackage<Pick<KeyvModules, "Keyv">>("keyv"),
    importBenchPackage<{ createKeyv: KeyvModules["createRedisKeyv"] }>("@keyv/redis"),
  ]);
  return { Keyv, createRedisKeyv: createKeyv };
}

export function loadLayeredLoader(): Promise<LayeredLoaderModule> {
  return importBenchPackage<LayeredLoaderModule>("layered-loader");
}

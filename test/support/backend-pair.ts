/**
 * The memory backend and the Redis backend of one cache name and namespace, opened side by side for the equivalence
 * tests (the in-process implementation against the Lua one), each with raw access to what it stored: the memory
 * keyspace on one side, a plain Redis client on the other.
 */
import { Redis } from "ioredis";
import { systemClock } from "../../src/kernel/clock.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import type { MemoryKeyspace } from "../../src/l2/memory/memory-cache-backend.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";

/** Reads and writes of one side's raw keys, past the library (planted data, what a step left behind). */
export interface RawKeys {
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  get(key: string): Promise<string | undefined>;
  del(key: string): Promise<void>;
}

export interface BackendPair {
  readonly memory: { readonly backend: CacheBackend; readonly raw: RawKeys };
  readonly redis: { readonly backend: CacheBackend; readonly raw: RawKeys };
  close(): Promise<void>;
}

export async function openBackendPair(redisUrl: string, cache: string, namespace: string): Promise<BackendPair> {
  const env = { logger: silentLogger, clock: systemClock };
  const caches = { [cache]: { namespace } };
  const memory = (await memoryCacheModule({ caches }).open(env)).backend;
  const redis = (await redisModule({ url: redisUrl, caches }).open(env)).backend;
  const client = new Redis(redisUrl);
  const keyspace = (memory as unknown as { keyspace: MemoryKeyspace }).keyspace;
  return {
    memory: {
      backend: memory,
      raw: {
        set: async (key, value, ttlMs) => keyspace.set(key, value, ttlMs ?? Number.POSITIVE_INFINITY),
        get: async (key) => keyspace.get(key)?.toString(),
        del: async (key) => void keyspace.delete(key),
      },
    },
    redis: {
      backend: redis,
      raw: {
        set: async (key, value, ttlMs) =>
          void (ttlMs === undefined ? await client.set(key, value) : await client.set(key, value, "PX", ttlMs)),
        get: async (key) => (await client.get(key)) ?? undefined,
        del: async (key) => void (await client.del(key)),
      },
    },
    close: async () => {
      await memory.close();
      await redis.close();
      client.disconnect();
    },
  };
}

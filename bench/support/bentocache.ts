/**
 * bentocache, loaded from bench/node_modules (see bench-packages.ts: installed on first use, never in the library's
 * dependency tree). Typed here with the little the benchmarks call, so `npm run typecheck` works without it.
 */
import { importBenchPackage } from "./bench-packages.js";

export interface BentoCacheLike {
  set(options: { key: string; value: unknown }): Promise<unknown>;
  getOrSet(options: { key: string; factory: () => unknown }): Promise<unknown>;
  disconnect(): Promise<void>;
}

interface BentoModules {
  readonly BentoCache: new (options: {
    default: string;
    ttl: string;
    stores: Record<string, unknown>;
  }) => BentoCacheLike;
  readonly bentostore: () => BentoStoreLike;
  readonly memoryDriver: (options: { maxItems: number; serialize: boolean }) => unknown;
  /** `connection`: an ioredis client, which `disconnect()` closes. */
  readonly redisDriver: (options: { connection: unknown }) => unknown;
}

interface BentoStoreLike {
  useL1Layer(driver: unknown): BentoStoreLike;
  useL2Layer(driver: unknown): BentoStoreLike;
}

export async function loadBentocache(): Promise<BentoModules> {
  const [{ BentoCache, bentostore }, { memoryDriver }, { redisDriver }] = await Promise.all([
    importBenchPackage<Pick<BentoModules, "BentoCache" | "bentostore">>("bentocache"),
    importBenchPackage<Pick<BentoModules, "memoryDriver">>("bentocache/drivers/memory"),
    importBenchPackage<Pick<BentoModules, "redisDriver">>("bentocache/drivers/redis"),
  ]);
  return { BentoCache, bentostore, memoryDriver, redisDriver };
}

/**
 * bentocache with its memory layer only, configured as fairly as it allows for an in-process hit: no L2, no bus,
 * `serialize: false` (values kept by reference, like stratacache's L1), `capacity` items, a long ttl.
 */
export async function bentoInMemory(capacity: number, ttl = "1h"): Promise<BentoCacheLike> {
  const { BentoCache, bentostore, memoryDriver } = await loadBentocache();
  return new BentoCache({
    default: "memory",
    ttl,
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: capacity, serialize: false })) },
  });
}

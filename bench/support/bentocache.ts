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

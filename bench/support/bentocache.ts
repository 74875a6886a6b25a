/**
 * bentocache, loaded from bench/node_modules (bench/package.json) rather than the library's own dependency tree, so
 * its dependencies and peers (ioredis, lru-cache, …) never pin ours. `npm run bench` installs it on first use.
 * Typed here with the little the benchmarks call, so `npm run typecheck` works without it installed.
 */

export interface BentoCacheLike {
  set(options: { key: string; value: unknown }): Promise<unknown>;
  getOrSet(options: { key: string; factory: () => unknown }): Promise<unknown>;
}

interface BentoModules {
  readonly BentoCache: new (options: {
    default: string;
    ttl: string;
    stores: Record<string, unknown>;
  }) => BentoCacheLike;
  readonly bentostore: () => { useL1Layer(driver: unknown): unknown };
  readonly memoryDriver: (options: { maxItems: number; serialize: boolean }) => unknown;
}

export async function loadBentocache(): Promise<BentoModules> {
  // Specifiers held in variables: the type checker must not look for the package, which may not be installed.
  const main: string = "bentocache";
  const memory: string = "bentocache/drivers/memory";
  try {
    const [{ BentoCache, bentostore }, { memoryDriver }] = await Promise.all([import(main), import(memory)]);
    return { BentoCache, bentostore, memoryDriver };
  } catch (error) {
    throw new Error("bentocache is not installed: run `npm run bench` (or `npm ci --prefix bench`) first", {
      cause: error,
    });
  }
}

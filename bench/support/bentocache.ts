/**
 * bentocache, loaded from bench/node_modules (bench/package.json, with its own lockfile) rather than the library's
 * dependency tree, so its dependencies and peers (ioredis, lru-cache, …) never pin ours. Installed on first use
 * (`npm ci --prefix bench`). Typed here with the little the benchmarks call, so `npm run typecheck` works without it.
 */
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

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

const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

async function importBentocache(): Promise<BentoModules> {
  // Specifiers held in variables: the type checker must not look for the package, which may not be installed.
  const main: string = "bentocache";
  const memory: string = "bentocache/drivers/memory";
  const [{ BentoCache, bentostore }, { memoryDriver }] = await Promise.all([import(main), import(memory)]);
  return { BentoCache, bentostore, memoryDriver };
}

export async function loadBentocache(): Promise<BentoModules> {
  try {
    return await importBentocache();
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND") throw error;
  }
  console.error("bentocache is not installed in bench/node_modules: npm ci --prefix bench");
  execFileSync("npm", ["ci", "--prefix", BENCH_DIR, "--no-audit", "--no-fund"], { stdio: ["ignore", 2, 2] });
  return importBentocache();
}

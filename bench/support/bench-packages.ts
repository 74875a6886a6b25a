/**
 * Packages only the benchmarks use (bentocache, cacheable, cache-manager, Keyv's Redis store, cachified,
 * layered-loader) live in bench/package.json with their own lockfile and are loaded from bench/node_modules, so
 * their dependencies and peers (ioredis, lru-cache, keyv, …) never pin the library's. They are installed on first use
 * (`npm ci --prefix bench`): a missing package — a fresh clone, or a bench/node_modules from before a package was
 * added — runs the install once, then the import again. Callers type what they call themselves, so `npm run
 * typecheck` works without bench/node_modules.
 */
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
let installed = false;

/** `import(specifier)` from bench/node_modules, installing bench/package-lock.json first when it is missing. */
export async function importBenchPackage<T>(specifier: string): Promise<T> {
  // The specifier is a variable: the type checker must not look for a package that may not be installed.
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND") throw error;
  }
  // Synchronous on purpose: imports started alongside this one wait for it, then find the packages.
  if (!installed) {
    console.error(`${specifier} is not installed in bench/node_modules: npm ci --prefix bench`);
    execFileSync("npm", ["ci", "--prefix", BENCH_DIR, "--no-audit", "--no-fund"], { stdio: ["ignore", 2, 2] });
    installed = true;
  }
  return (await import(specifier)) as T;
}

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { withClient } from "./postgres.js";

const run = promisify(execFile);

/**
 * EMBEDDED_RUNS — which recipes run on the embedded default (PGlite + in-process L2) besides the real servers: one
 * embedded run per distinct engine code path. An embedded run costs several seconds of CPU (a WASM Postgres boots in
 * every process), and all recipes but two reach PGlite the same way, through `pickEngines().modules()` in
 * examples/recipes/shared/engines.ts (`postgresModule({ pglite: true })` + `memoryCacheModule`); early-refresh adds only
 * `onQuery`, which does not depend on the engine. That shared path keeps its embedded run with cache-reads, the
 * README's first command. stale-if-error hands in (and closes) a PGlite instance of its own, and push-invalidation
 * shares one PGlite between two runtimes and spawns a redis-server: both keep theirs. The PGlite driver itself
 * (transactions, savepoints, its single connection) is covered by postgres-repository.test.ts, the memory cache module
 * by cache-port.test.ts.
 */
export const EMBEDDED_RUNS = ["cache-reads", "stale-if-error", "push-invalidation"] as const;

/**
 * Runs a recipe the way a user would (`tsx examples/recipes/<name>/app.ts`) and returns what it printed. It starts
 * `node --import tsx` directly: the same loader as `npx tsx`, without npx resolving the binary on every run.
 * `REDIS_URL`, `DATABASE_URL` and `STRATA_ENGINES` of the test's own environment are never inherited by accident:
 * only `extraEnv` picks the engines. A non-zero exit (a recipe throws when its capability misbehaves) rejects.
 *
 * On real servers the recipe must leave nothing behind (they may be the developer's own): with `DATABASE_URL` given,
 * no `recipe_…` table may remain in that database; with `REDIS_URL` given (a private server, not one shared through
 * the test's own REDIS_URL), no `recipes:…` key may remain. Either rejects naming what was left.
 */
export async function runRecipe(name: string, extraEnv: Record<string, string>): Promise<string> {
  if (extraEnv.STRATA_ENGINES === "embedded" && !(EMBEDDED_RUNS as readonly string[]).includes(name)) {
    throw new Error(`recipe ${name}: its embedded run repeats another's engine path (see EMBEDDED_RUNS)`);
  }
  const { REDIS_URL: _r, DATABASE_URL: _d, STRATA_ENGINES: _e, ...inherited } = process.env;
  const { stdout } = await run(process.execPath, ["--import", "tsx", `examples/recipes/${name}/app.ts`], {
    env: { ...inherited, ...extraEnv },
    timeout: 60_000,
  });
  const left = await leftovers(extraEnv.DATABASE_URL, extraEnv.REDIS_URL);
  if (left.length > 0) throw new Error(`recipe ${name} left behind: ${left.join(", ")}`);
  return stdout;
}

/** The recipe tables in the database, and the recipe keys in a private Redis. */
export async function leftovers(databaseUrl: string | undefined, redisUrl: string | undefined): Promise<string[]> {
  const found: string[] = [];
  if (databaseUrl !== undefined) {
    const tables = await withClient(databaseUrl, (client) =>
      client.query<{ name: string }>(
        "SELECT schemaname || '.' || tablename AS name FROM pg_tables WHERE tablename LIKE 'recipe\\_%' ORDER BY 1",
      ),
    );
    found.push(...tables.rows.map((row) => `table ${row.name}`));
  }
  // A Redis shared through the test's own REDIS_URL may hold another file's run in flight: only a private one is exact.
  if (redisUrl !== undefined && redisUrl !== process.env.REDIS_URL) {
    const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    await client.connect();
    try {
      const keys = await client.keys("recipes:*");
      found.push(...keys.sort().map((key) => `key ${key}`));
    } finally {
      client.disconnect();
    }
  }
  return found;
}

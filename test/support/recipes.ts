import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Runs a recipe the way a user would (`npx tsx examples/recipes/<name>/app.ts`) and returns what it printed.
 * `REDIS_URL`, `DATABASE_URL` and `STRATA_ENGINES` of the test's own environment are never inherited by accident:
 * only `extraEnv` picks the engines. A non-zero exit (a recipe throws when its capability misbehaves) rejects.
 */
export async function runRecipe(name: string, extraEnv: Record<string, string>): Promise<string> {
  const { REDIS_URL: _r, DATABASE_URL: _d, STRATA_ENGINES: _e, ...inherited } = process.env;
  const { stdout } = await run("npx", ["tsx", `examples/recipes/${name}/app.ts`], {
    env: { ...inherited, ...extraEnv },
    timeout: 60_000,
  });
  return stdout;
}

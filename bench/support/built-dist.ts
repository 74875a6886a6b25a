/** The built library (dist/) for benchmarks that measure what users get, never the source through tsx. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./traces.js";

export const DIST = join(REPO_ROOT, "dist");

/**
 * Exits with a hint when dist/ is missing, and warns when src/ changed after it was built. Call before any
 * `importDist`: a benchmark of a stale build measures code that is no longer there.
 */
export function requireBuiltDist(benchmark: string): void {
  const index = join(DIST, "index.js");
  if (!existsSync(index)) {
    console.error(
      `bench/${benchmark}.ts measures the built library: dist/index.js is missing. Run \`npm run build\` first.`,
    );
    process.exit(1);
  }
  if (newest(join(REPO_ROOT, "src")) > statSync(index).mtimeMs) {
    console.warn("warning: src/ changed after dist/ was built; `npm run build` to measure the current source.");
  }
}

/** A module of a build: `file` relative to its dist/ directory (`dir`, by default this repository's). */
export function importDist<T>(file: string, dir: string = DIST): Promise<T> {
  return import(pathToFileURL(join(dir, file)).href) as Promise<T>;
}

function newest(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
    ),
  );
}

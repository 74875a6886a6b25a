/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts; with no name, lists the benchmarks.
 * Each benchmark prints a table and writes bench/results/<name>.json.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith(".ts") && file !== "run.ts")
  .map((file) => file.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  if (name) console.error(`unknown benchmark "${name}"`);
  console.log(`usage: npm run bench -- <name> [args]\nbenchmarks: ${available.join(", ")}`);
  process.exit(name ? 1 : 0);
}
process.argv = [process.argv[0] as string, join(here, `${name}.ts`), ...rest];
await import(pathToFileURL(join(here, `${name}.ts`)).href);

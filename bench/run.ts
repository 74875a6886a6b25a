/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts. With no name, `--help`, `-h` or `help`, lists the
 * benchmarks (one line each, from the top of each file, with its usage); `<name> --help` prints that benchmark's
 * description without running it. Each benchmark prints a table, a "goal met" / "GOAL MISSED" line per performance
 * goal it measures, and writes bench/results/<name>.json.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith(".ts") && file !== "run.ts")
  .map((file) => file.slice(0, -3))
  .sort();

const HELP = new Set(["--help", "-h", "help"]);

/** The leading doc comment of a benchmark, without its `*` gutter. */
function description(name: string): string[] {
  const source = readFileSync(join(here, `${name}.ts`), "utf8");
  const match = /^\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!match) return [];
  return (match[1] as string).split("\n").map((line) => line.replace(/^\s*\* ?/, "").trimEnd());
}

/** The first sentence of the description, on one line (a `.` or `:` outside parentheses ends it). */
function summary(name: string): string {
  const lines = description(name);
  const blank = lines.findIndex((line, i) => i > 0 && line.trim() === "" && lines[i - 1]?.trim() !== "");
  const text = (blank < 0 ? lines : lines.slice(0, blank)).join(" ").replace(/\s+/g, " ").trim();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && (c === "." || c === ":") && (i + 1 === text.length || text[i + 1] === " ")) {
      return text.slice(0, i);
    }
  }
  return text;
}

/** The usage lines a benchmark documents, spelled as `npm run bench -- <name> …`. */
function usage(name: string): string[] {
  const lines = description(name)
    .map((line) => line.trim().replace(/\s+#.*$/, ""))
    .filter((line) => /^(npm run bench --|npx tsx bench\/)/.test(line))
    .map((line) => line.replace(/^npx tsx bench\/([\w-]+)\.ts/, "npm run bench -- $1"));
  return [...new Set(lines)];
}

function printList(): void {
  console.log("usage: npm run bench -- <name> [args]      (npm run bench -- <name> --help: what it measures)\n");
  console.log("benchmarks:");
  for (const name of available) {
    console.log(`  ${name.padEnd(14)} ${summary(name)}`);
    for (const line of usage(name)) console.log(`  ${"".padEnd(14)}   ${line}`);
  }
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || HELP.has(name)) {
  printList();
  process.exit(0);
}
if (!available.includes(name)) {
  console.error(`unknown benchmark "${name}"\n`);
  printList();
  process.exit(1);
}
if (rest.some((arg) => HELP.has(arg))) {
  console.log(description(name).join("\n").trim());
  process.exit(0);
}
process.argv = [process.argv[0] as string, join(here, `${name}.ts`), ...rest];
await import(pathToFileURL(join(here, `${name}.ts`)).href);

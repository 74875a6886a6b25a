/**
 * The developer tools tell the truth: `npm run bench -- --help` lists every benchmark, and the justfile's recipes and
 * the examples in its comments name things that exist.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const benchmarks = readdirSync("bench")
  .filter((file) => file.endsWith(".ts") && file !== "run.ts")
  .map((file) => file.slice(0, -3));

async function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "bench/run.ts", ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm run bench", () => {
  it.each([["--help"], ["-h"], []])(
    "%s lists every benchmark with a summary, and exits 0",
    async (...args) => {
      const { code, stdout } = await bench(...(args as string[]));
      expect(code).toBe(0);
      for (const name of benchmarks) expect(stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    },
    60_000,
  );

  it("<name> --help describes that benchmark without running it", async () => {
    const { code, stdout } = await bench("push-lag", "--help");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Push invalidation between two processes/);
    expect(stdout).not.toMatch(/GOAL|goal met/);
  }, 60_000);

  it("an unknown name fails and still lists the benchmarks", async () => {
    const { code, stdout, stderr } = await bench("no-such-bench");
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown benchmark "no-such-bench"/);
    expect(stdout).toContain("read-through");
  }, 60_000);
});

describe("justfile", () => {
  const justfile = readFileSync("justfile", "utf8");

  it("`just bench …` examples name real benchmarks", () => {
    const examples = [...justfile.matchAll(/`just bench ([\w-]+)/g)].map((match) => match[1]);
    expect(examples.length).toBeGreaterThan(0);
    for (const name of examples) expect(benchmarks).toContain(name);
  });

  it("`just --list` parses and shows every recipe", async () => {
    const { stdout } = await run("npx", ["just", "--list"], { timeout: 60_000 });
    for (const recipe of ["run", "test", "bench", "lint", "ci", "recipes"]) {
      expect(stdout).toMatch(new RegExp(`^\\s+${recipe}\\b`, "m"));
    }
  }, 60_000);

  it("every recipe folder with a justfile has a `run` recipe pointing at its app", () => {
    for (const dir of readdirSync("examples/recipes")) {
      let text: string;
      try {
        text = readFileSync(`examples/recipes/${dir}/justfile`, "utf8");
      } catch {
        continue; // shared helpers, not a recipe
      }
      expect(text).toMatch(/^run:/m);
      expect(text).toContain(`examples/recipes/${dir}/app.ts`);
    }
  });
});

/**
 * The published package as a stranger gets it: `npm pack` (which builds dist/ on prepack), a fresh project that
 * installs the tarball beside its own ioredis, pg and zod — the lowest versions our peer ranges admit, so the ranges
 * stay honest — then strict `tsc` (skipLibCheck false) over the README's first ts example, and that example run
 * against the real Postgres and Redis of the harness. One temporary project serves the whole file.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withClient } from "../support/postgres.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Our own TypeScript compiler, run over the app (saves installing one there). */
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The lowest version a peer range admits: `^5.3.0 || ^6.0.0` → `5.3.0`. */
function lowestAdmitted(range: string): string {
  const versions = [...range.matchAll(/(\d+)\.(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
  versions.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
  const lowest = versions[0];
  if (lowest === undefined) throw new Error(`no version in peer range ${range}`);
  return lowest.join(".");
}

/** The README's first ```ts block: the example a new user copies. */
function readmeExample(): string {
  const match = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, "README.md"), "utf8"));
  if (!match?.[1]) throw new Error("README.md has no ```ts example");
  return match[1];
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, ...extraEnv }, timeout: 180_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function mustRun(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** A strict type-check of the app takes ~9 s of CPU (most of it @types/node); generous for a loaded CI machine. */
const TSC_TIMEOUT_MS = 180_000;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: false,
    types: ["node"],
    outDir: "out",
    // The second check (own-clients) reuses the first one's work on the unchanged declaration files.
    incremental: true,
    tsBuildInfoFile: "out/.tsbuildinfo",
  },
  files: ["example.ts", "pglite-missing.ts"],
};
const OWN_TSCONFIG = { extends: "./tsconfig.json", files: [...TSCONFIG.files, "own-clients.ts"] };
const OTEL_TSCONFIG = { extends: "./tsconfig.json", files: [...TSCONFIG.files, "otel.ts"] };

/** The `stratacache/otel` subpath with the lowest @opentelemetry/api its optional peer range admits (no SDK). */
const OTEL = `import { metrics, trace } from "@opentelemetry/api";
import { instrumentStratacache } from "stratacache/otel";

const instrumentation = instrumentStratacache({
  meterProvider: metrics.getMeterProvider(),
  tracerProvider: trace.getTracerProvider(),
  requireParentSpan: true,
});
instrumentation.dispose();
console.log(JSON.stringify({ instrumented: typeof instrumentation.dispose }));
`;

/** `postgresModule({ pglite: true })` in an app without the optional peer: start must say what to install. */
const PGLITE_MISSING = `import { z } from "zod";
import { ConfigurationError, createRuntime, defineDocument, memoryCacheModule, postgresModule } from "stratacache";

const notes = defineDocument({ name: "notes", fields: z.object({ text: z.string() }) });
const runtime = createRuntime({
  modules: [postgresModule({ pglite: true, documents: { notes: {} } }), memoryCacheModule({ caches: { notes: {} } })],
});
try {
  await runtime.start();
  console.log(JSON.stringify({ started: true, spec: notes.name }));
} catch (error) {
  const e = error as ConfigurationError;
  console.log(JSON.stringify({ configuration: e instanceof ConfigurationError, code: e.code, path: e.path, message: e.message }));
}
`;

/** The app's own ioredis client and pg.Pool, passed in: recognised by shape and accepted by the option types. */
const OWN_CLIENTS = `import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
import { createRuntime, defineDocument, postgresModule, redisModule } from "stratacache";

const notes = defineDocument({ name: "notes", fields: z.object({ text: z.string() }), cache: { ttl: "1m" } });
const client = new Redis(process.env.REDIS_URL ?? "");
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const runtime = createRuntime({
  modules: [
    postgresModule({ pool, documents: { notes: { table: "own_notes" } } }),
    redisModule({ client, caches: { notes: { namespace: "own:notes" } } }),
  ],
});
await runtime.start();
const created = await runtime.context().document.command(notes).create({ text: "hello" });
const query = runtime.context().document.query(notes);
await query.get(created.id);
await runtime.settled(); // the miss's fill lands behind it: the next read is an L2 hit
const again = await query.get(created.id);
console.log(JSON.stringify({ text: again.text, l2: query.stats().l2 }));
await runtime.stop();
client.disconnect();
await pool.end();
`;

describe.skipIf(env.skip)("the packed tarball in a stranger's app", () => {
  let work: string;
  let app: string;
  let packed: string[];
  const peers = {
    ioredis: lowestAdmitted(manifest.peerDependencies.ioredis!),
    pg: lowestAdmitted(manifest.peerDependencies.pg!),
    zod: lowestAdmitted(manifest.peerDependencies.zod!),
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "stratacache-pack-"));
    app = join(work, "app");
    const [info] = JSON.parse(await mustRun("npm", ["pack", "--json", "--pack-destination", work], ROOT)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    packed = info!.files.map((file) => file.path);
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "stranger", private: true, type: "module" }));
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    writeFileSync(join(app, "example.ts"), readmeExample());
    writeFileSync(join(app, "pglite-missing.ts"), PGLITE_MISSING);
    await mustRun(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        join(work, info!.filename),
        `ioredis@${peers.ioredis}`,
        `pg@${peers.pg}`,
        `zod@${peers.zod}`,
        `@types/node@${manifest.devDependencies["@types/node"]}`,
      ],
      app,
    );
  }, 300_000);

  afterAll(async () => {
    if (env.redisUrl !== undefined) {
      const redis = new Redis(env.redisUrl);
      for (const pattern of ["app:products*", "own:notes*"]) {
        const keys = await redis.keys(pattern);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
    }
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("ships the built ESM and its declarations, and no sources, tests or benchmarks", () => {
    expect(packed).toContain("dist/index.js");
    expect(packed).toContain("dist/index.d.ts");
    expect(packed).toContain("dist/otel/index.js");
    expect(packed).toContain("dist/otel/index.d.ts");
    expect(packed).toContain("package.json");
    expect(packed.filter((path) => !path.startsWith("dist/")).sort()).toEqual(["LICENSE", "README.md", "package.json"]);
    expect(packed.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts"))).toEqual([]);
  });

  it(
    "type-checks the README example under strict tsc without skipLibCheck, with no @types/pg or pglite",
    async () => {
      const tsc = await run(process.execPath, [TSC, "-p", "."], app);
      expect(tsc.stdout + tsc.stderr).toBe("");
      expect(tsc.code).toBe(0);
    },
    TSC_TIMEOUT_MS,
  );

  it("runs the README example against the real Postgres and Redis", async () => {
    const result = await run(process.execPath, ["out/example.js"], app, {
      DATABASE_URL: env.postgres!.url,
      REDIS_URL: env.redisUrl!,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const rows = await withClient(env.postgres!.url, (client) => client.query("SELECT data FROM products"));
    expect(rows.rows.map((row) => row.data)).toEqual([{ name: "Widget", price: 12 }]);
    const redis = new Redis(env.redisUrl!);
    try {
      expect((await redis.keys("app:products*")).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it("refuses postgresModule({ pglite: true }) at start without the optional peer, saying what to install", async () => {
    const result = await run(process.execPath, ["out/pglite-missing.js"], app);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      configuration: true,
      code: "CONFIGURATION",
      path: "postgresModule.pglite",
      message: expect.stringContaining("npm install @electric-sql/pglite"),
    });
  });

  it(
    "resolves and type-checks the stratacache/otel subpath with the lowest @opentelemetry/api admitted, and runs it",
    async () => {
      const api = lowestAdmitted(manifest.peerDependencies["@opentelemetry/api"]!);
      await mustRun(
        "npm",
        ["install", "--prefer-offline", "--no-audit", "--no-fund", `@opentelemetry/api@${api}`],
        app,
      );
      writeFileSync(join(app, "otel.ts"), OTEL);
      writeFileSync(join(app, "tsconfig.otel.json"), JSON.stringify(OTEL_TSCONFIG, null, 2));
      const check = await run(process.execPath, [TSC, "-p", "tsconfig.otel.json"], app);
      expect(check.stdout + check.stderr).toBe("");
      const result = await run(process.execPath, ["out/otel.js"], app);
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({ instrumented: "function" });
    },
    TSC_TIMEOUT_MS,
  );

  it(
    "takes the app's own ioredis client and pg.Pool (types and runtime), with @types/pg installed by the app",
    async () => {
      await mustRun(
        "npm",
        [
          "install",
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          `@types/pg@${manifest.devDependencies["@types/pg"]}`,
        ],
        app,
      );
      writeFileSync(join(app, "own-clients.ts"), OWN_CLIENTS);
      writeFileSync(join(app, "tsconfig.own.json"), JSON.stringify(OWN_TSCONFIG, null, 2));
      const check = await run(process.execPath, [TSC, "-p", "tsconfig.own.json"], app);
      expect(check.stdout + check.stderr).toBe("");
      const result = await run(process.execPath, ["out/own-clients.js"], app, {
        DATABASE_URL: env.postgres!.url,
        REDIS_URL: env.redisUrl!,
      });
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toMatchObject({ text: "hello", l2: { hits: 1, misses: 1 } });
    },
    TSC_TIMEOUT_MS,
  );
});

/**
 * The layering of ARCHITECTURE.md is enforced by `npm run lint` (biome.json: noRestrictedImports per folder, and
 * noImportCycles). This runs the project's own Biome configuration over fixture files placed where they would sit
 * in src/, and checks that every import pointing the wrong way is refused — and that the allowed ones are not.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const biome = join(process.cwd(), "node_modules", ".bin", "biome");

/** fixture path under src/ → the import it makes, and whether the layering allows it. */
const fixtures: ReadonlyArray<readonly [string, string, boolean]> = [
  ["kernel/up-to-spec.ts", "../spec/document-spec.js", false],
  ["kernel/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["kernel/within.ts", "./errors.js", true],
  ["sealing/up-to-l2.ts", "../l2/cache-port.js", false],
  ["sealing/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["sealing/down-to-kernel.ts", "../kernel/errors.js", true],
  ["tenancy/sideways-to-sealing.ts", "../sealing/keyring.js", false],
  ["tenancy/down-to-kernel.ts", "../kernel/errors.js", true],
  ["l2/down-to-sealing.ts", "../sealing/value-sealer.js", true],
  ["repository/down-to-sealing.ts", "../sealing/field-sealer.js", true],
  ["l1/up-to-spec.ts", "../spec/cache-spec.js", false],
  ["l1/down-to-kernel.ts", "../kernel/errors.js", true],
  ["spec/up-to-l2.ts", "../l2/cache-port.js", false],
  ["spec/down-to-l1.ts", "../l1/l1-store.js", true],
  ["l2/redis/sideways-to-invalidation.ts", "../../invalidation/invalidation-router.js", false],
  ["l2/sideways-to-repository.ts", "../repository/document-repository.js", false],
  ["l2/down-to-spec.ts", "../spec/document-spec.js", true],
  ["repository/postgres/sideways-to-l2.ts", "../../l2/document-entry.js", false],
  ["repository/up-to-core.ts", "../read-through/read-through-coordinator.js", false],
  ["invalidation/sideways-to-l2.ts", "../l2/cache-backend.js", false],
  ["invalidation/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["read-through/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["read-through/down-to-l2.ts", "../l2/document-entry.js", true],
  ["read-through/driver.ts", "ioredis", false],
  ["runtime/down-to-core.ts", "../read-through/read-through-coordinator.js", true],
  ["coordination/down-to-l2.ts", "../l2/key-layout.js", true],
  ["coordination/redis/down-to-l2-redis.ts", "../../l2/redis/redis-commands.js", true],
  ["coordination/sideways-to-core.ts", "../read-through/read-through-coordinator.js", false],
  ["coordination/postgres/sideways-to-repository.ts", "../../repository/postgres/pg-driver.js", false],
  ["coordination/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["coordination/postgres/driver.ts", "pg", false],
  ["l2/up-to-coordination.ts", "../coordination/cache-lock.js", false],
  ["read-through/sideways-to-coordination.ts", "../coordination/cache-lock.js", false],
  ["runtime/down-to-coordination.ts", "../coordination/cache-coordination.js", true],
  ["kernel/up-to-observability.ts", "../observability/event-channels.js", false],
  ["observability/up-to-l2.ts", "../l2/document-entry.js", false],
  ["observability/up-to-core.ts", "../read-through/read-through-coordinator.js", false],
  ["observability/otel-api.ts", "@opentelemetry/api", false],
  ["observability/down-to-kernel.ts", "../kernel/rate-limited-log.js", true],
  ["l2/redis/down-to-observability.ts", "../../observability/publish.js", true],
  ["invalidation/down-to-observability.ts", "../observability/event-channels.js", true],
  ["read-through/sideways-to-otel.ts", "../otel/index.js", false],
  ["otel/into-core.ts", "../read-through/read-through-coordinator.js", false],
  ["otel/down-to-observability.ts", "../observability/event-channels.js", true],
  ["change-capture/sideways-to-core.ts", "../read-through/read-through-coordinator.js", false],
  ["change-capture/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["change-capture/outbox/driver.ts", "ioredis", false],
  ["change-capture/down-to-l2.ts", "../l2/document-entry.js", true],
  ["change-capture/down-to-repository.ts", "../repository/postgres/sql-driver.js", true],
  ["read-through/sideways-to-capture.ts", "../change-capture/change-relay.js", false],
  ["l2/up-to-capture.ts", "../change-capture/change-relay.js", false],
  ["cache/up-to-runtime.ts", "../runtime/runtime.js", false],
  ["cache/driver.ts", "ioredis", false],
  ["cache/down-to-l2.ts", "../l2/key-value-store.js", true],
  ["cache/down-to-core.ts", "../read-through/single-flight.js", true],
  ["l2/up-to-cache.ts", "../cache/cache.js", false],
  ["read-through/up-to-cache.ts", "../cache/cache.js", false],
  ["cache/down-to-coordination.ts", "../coordination/cache-coordination.js", true],
  ["coordination/up-to-cache.ts", "../cache/cache.js", false],
];

let root: string;
let flagged: Map<string, string[]>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "strata-layering-"));
  const config = JSON.parse(readFileSync("biome.json", "utf8")) as Record<string, unknown>;
  delete config.$schema;
  config.files = { includes: ["src/**"] };
  writeFileSync(join(root, "biome.json"), JSON.stringify(config));
  for (const [path, target] of fixtures)
    write(path, `import { thing } from "${target}";\nexport const used = thing;\n`);
  // Two files importing each other: an import cycle.
  write("l2/cycle-a.ts", 'import { b } from "./cycle-b.js";\nexport const a = () => b;\n');
  write("l2/cycle-b.ts", 'import { a } from "./cycle-a.js";\nexport const b = () => a;\n');
  const { stdout } = await run(biome, ["lint", "--reporter=json", "."], { cwd: root }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
  );
  const report = JSON.parse(stdout) as {
    diagnostics: Array<{ category: string; location: { path: { file: string } | string } }>;
  };
  flagged = new Map();
  for (const diagnostic of report.diagnostics) {
    const where = diagnostic.location.path;
    const file = (typeof where === "string" ? where : where.file).replace(/^src\//, "");
    flagged.set(file, [...(flagged.get(file) ?? []), diagnostic.category]);
  }
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function write(path: string, text: string): void {
  const file = join(root, "src", path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

describe("layering lint", () => {
  it.each(fixtures.map(([path, target, allowed]) => [path, target, allowed] as const))(
    "src/%s importing %s (allowed: %s)",
    (path, _target, allowed) => {
      const categories = flagged.get(path) ?? [];
      if (allowed) expect(categories).not.toContain("lint/style/noRestrictedImports");
      else expect(categories).toContain("lint/style/noRestrictedImports");
    },
  );

  it("refuses an import cycle", () => {
    expect(flagged.get("l2/cycle-a.ts") ?? []).toContain("lint/suspicious/noImportCycles");
  });
});

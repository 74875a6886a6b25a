/**
 * The sealing rows of bench/read-through.ts: the same read through two runtimes on one table, side by side in each
 * run — one whose cache route seals (AES-256-GCM) or compresses (gzip), one plain — so the ratio is what sealing
 * adds. Also the bytes Redis holds for 20 KiB documents, compressed vs plain (STRLEN summed over the entries).
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Runtime } from "../../src/index.js";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../../src/index.js";
import { entryPrefix, idKey } from "../../src/l2/key-layout.js";
import { latencyUs } from "./measure.js";

export interface SealingRow {
  name: string;
  unit: string;
  ours: number[];
  raw: number[];
  goal: string;
  limit: number;
  better: "lower" | "higher";
}

const spec = defineDocument({
  name: "sealed_bench",
  fields: z.object({ name: z.string(), blob: z.string() }),
  cache: { ttl: "1h" },
});

/** A realistic-ish body: words, numbers and repeats, so gzip gets the ratio JSON usually gives. */
function body(bytes: number, seed: number): string {
  const words = ["alpha", "widget", "price", "stock", "warehouse", "euro", "blue", "large", "note", "customer"];
  let out = "";
  for (let i = 0; out.length < bytes; i++) out += `${words[(i * 7 + seed) % words.length]} ${(i * 31 + seed) % 997} `;
  return out.slice(0, bytes);
}

export async function measureSealing(
  databaseUrl: string,
  redisUrl: string,
  redis: Redis,
  runs: number,
  n: (count: number) => number,
): Promise<{ rows: SealingRow[]; cleanup: () => Promise<void> }> {
  const table = `bench_sealed_${process.pid}`;
  const ns = (what: string) => `bench:seal:${process.pid}:${what}`;
  const key = { keys: { k1: randomBytes(32) }, active: "k1" };
  const open = async (namespace: string, extra: Record<string, unknown>): Promise<Runtime> => {
    const runtime = createRuntime({
      modules: [
        postgresModule({ url: databaseUrl, documents: { sealed_bench: { table } } }),
        redisModule({ url: redisUrl, caches: { sealed_bench: { namespace, ...extra } } }),
      ],
      logger: silentLogger,
    });
    await runtime.start();
    return runtime;
  };
  const plain = await open(ns("plain"), {});
  const sealed = await open(ns("sealed"), { encryption: key });
  const packed = await open(ns("packed"), { compression: { algorithm: "gzip", thresholdBytes: 1024 } });
  const small: string[] = [];
  const large: string[] = [];
  const command = plain.context().document.command(spec);
  for (let i = 0; i < 200; i++) small.push((await command.create({ name: `s${i}`, blob: body(1000, i) })).id);
  for (let i = 0; i < 100; i++) large.push((await command.create({ name: `l${i}`, blob: body(20_000, i) })).id);
  const q = (runtime: Runtime) => runtime.context().document.query(spec);
  for (const runtime of [plain, sealed, packed]) await q(runtime).getMany([...small, ...large]); // warm L2
  const pick = (ids: string[], i: number) => ids[i % ids.length] as string;
  const batch = (i: number) => Array.from({ length: 100 }, (_, j) => pick(small, i * 7 + j));

  const rows: SealingRow[] = [
    {
      name: "L2 hit 1 KiB: sealed vs plain",
      unit: "µs/op",
      ours: [],
      raw: [],
      goal: "≤ 1.15×",
      limit: 1.15,
      better: "lower",
    },
    {
      name: "getMany(100) warm 1 KiB: sealed vs plain",
      unit: "µs/op",
      ours: [],
      raw: [],
      goal: "≤ 1.15×",
      limit: 1.15,
      better: "lower",
    },
    {
      name: "L2 hit 20 KiB: gzip vs plain",
      unit: "µs/op",
      ours: [],
      raw: [],
      goal: "≤ 1.2×",
      limit: 1.2,
      better: "lower",
    },
    {
      name: "Redis bytes, 100 × 20 KiB: gzip vs plain",
      unit: "bytes",
      ours: [],
      raw: [],
      goal: "< 1×",
      limit: 0.999,
      better: "lower",
    },
  ];
  const [hit, many, packedHit, bytes] = rows as [SealingRow, SealingRow, SealingRow, SealingRow];
  const [qp, qs, qz] = [q(plain), q(sealed), q(packed)];
  await latencyUs(n(1000), (i) => qs.get(pick(small, i))); // warm-up
  await latencyUs(n(1000), (i) => qp.get(pick(small, i)));
  for (let run = 0; run < runs; run++) {
    hit.raw.push(await latencyUs(n(4000), (i) => qp.get(pick(small, i))));
    hit.ours.push(await latencyUs(n(4000), (i) => qs.get(pick(small, i))));
    many.raw.push(await latencyUs(n(300), (i) => qp.getMany(batch(i))));
    many.ours.push(await latencyUs(n(300), (i) => qs.getMany(batch(i))));
    packedHit.raw.push(await latencyUs(n(1500), (i) => qp.get(pick(large, i))));
    packedHit.ours.push(await latencyUs(n(1500), (i) => qz.get(pick(large, i))));
  }
  const stored = async (namespace: string) => {
    const lengths = await Promise.all(
      large.map((id) => redis.strlen(idKey(entryPrefix(namespace, spec.fingerprint), id))),
    );
    return lengths.reduce((sum, length) => sum + length, 0);
  };
  bytes.ours.push(await stored(ns("packed")));
  bytes.raw.push(await stored(ns("plain")));
  const cleanup = async () => {
    for (const runtime of [plain, sealed, packed]) await runtime.stop();
    for (const what of ["plain", "sealed", "packed"]) {
      const keys = await redis.keys(`${ns(what)}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  };
  return { rows, cleanup };
}

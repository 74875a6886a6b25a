/**
 * Encryption: a cache route that seals every L2 value with AES-256-GCM (and gzips the big ones first). Redis holds
 * only ciphertext behind a plaintext version header; a ciphertext copied to another document's key is refused (a
 * counted miss, never served); and keys rotate live — add the new key, make it active, retire the old one — without
 * a flush. Run with `just run` (or `npx tsx examples/recipes/encryption/app.ts` from the repository root).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";
import type { Runtime } from "../../../src/index.js";
import { createRuntime, defineDocument, keyring } from "../../../src/index.js";
import { entryPrefix, idKey } from "../../../src/l2/key-layout.js";
import { pickEngines, runTable } from "../shared/engines.js";

const patients = defineDocument({
  name: "patients",
  fields: z.object({ name: z.string(), diagnosis: z.string(), notes: z.string() }),
  cache: { ttl: "10m" },
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`encryption recipe: ${message}`);
}

// Keys are 32 random bytes, from your secret store; a key id is written beside every value it seals.
const v1 = randomBytes(32);
const v2 = randomBytes(32);
const namespace = `recipes:encryption:${process.pid}`;
const table = runTable("recipe_encryption_patients");
const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);
const redisUrl = engines.redis.startsWith("Redis at") ? (process.env.REDIS_URL ?? "redis://127.0.0.1:6379") : undefined;

/** A runtime whose `patients` route seals with `keys` (the first id active). */
function replica(keys: Record<string, Buffer>, active: string): Runtime {
  return createRuntime({
    modules: engines.modules({
      documents: { patients: { table } },
      caches: {
        patients: {
          namespace,
          encryption: keyring({ keys, active }),
          compression: { algorithm: "gzip", thresholdBytes: 1024 },
        },
      },
    }),
  });
}
const sealing = (runtime: Runtime) => runtime.stats().caches.patients!.sealing!;
const l2 = (runtime: Runtime) => runtime.stats().documents.patients!.l2;

const a = replica({ v1 }, "v1");
const started: Runtime[] = [a];
const raw = redisUrl === undefined ? undefined : new Redis(redisUrl);
try {
  await a.start();
  const ctx = a.context();
  const ann = await ctx.document
    .command(patients)
    .create({ name: "Ann", diagnosis: "hypertension", notes: "follow-up in 3 months. ".repeat(80) });
  const bob = await ctx.document.command(patients).create({ name: "Bob", diagnosis: "asthma", notes: "inhaler" });
  await ctx.document.query(patients).getMany([ann.id, bob.id]); // fills L2, sealed
  await a.settled(); // the fills land right behind the read
  console.log(`\nA (keyring v1) created Ann and Bob and read them: L2 now holds their sealed entries`);

  const key = (id: string) => idKey(entryPrefix(namespace, patients.fingerprint), id);
  if (raw !== undefined) {
    const stored = (await raw.get(key(ann.id)))!;
    const header = stored.slice(0, stored.indexOf("~"));
    console.log(`raw GET of Ann's entry: ${header}~<${stored.length - header.length - 1} chars of base64>`);
    check(!stored.includes("hypertension") && !stored.includes("Ann"), "cleartext in Redis");
    console.log(`  contains "hypertension"? no. Header (version for the fence) in clear, body sealed`);
    console.log(
      `  Ann's ${JSON.stringify(ann).length} bytes of JSON stored as ${stored.length} (gzip, then AES-256-GCM)`,
    );

    // ── A ciphertext moved to another key does not open there. ──
    await raw.set(key(bob.id), stored, "PX", 60_000);
    const read = await ctx.document.query(patients).get(bob.id);
    console.log(`\ncopied Ann's ciphertext onto Bob's key; get(Bob) → ${read.name}, ${read.diagnosis} (from Postgres)`);
    check(read.name === "Bob" && sealing(a).authFailed === 1, "the transplanted ciphertext was not refused");
    console.log(`  sealing.authFailed = ${sealing(a).authFailed}: refused, counted, replaced by the next fill`);
  } else {
    console.log("(no Redis: the raw GET and transplant steps need one; the rotation below still runs)");
  }

  // ── Live rotation: B knows v1 and v2 and writes with v2; old entries keep reading. ──
  const b = replica({ v1, v2 }, "v2");
  started.push(b);
  await b.start();
  const qb = b.context().document.query(patients);
  const annOnB = await qb.get(ann.id);
  console.log(`\nB (keyring v1+v2, v2 active) get(Ann) → ${annOnB.diagnosis}; L2 hits=${l2(b).hits} (v1 entry opened)`);
  check(l2(b).hits === 1, "B could not read the v1 entry");
  const cid = (await b.context().document.command(patients).create({ name: "Cy", diagnosis: "none", notes: "" })).id;
  await qb.get(cid);
  await b.settled(); // Cy's fill lands right behind the read
  if (raw !== undefined) {
    const stored = (await raw.get(key(cid)))!;
    const sealed = Buffer.from(stored.slice(stored.indexOf("~") + 1), "base64");
    const keyId = sealed.toString("latin1", 3, 3 + sealed[2]!);
    console.log(`B created Cy: its entry is sealed with key "${keyId}"`);
    check(keyId === "v2", "B did not seal with the active key");
  }

  // ── Retire v1: C only holds v2. v1 entries become misses (refilled with v2), v2 entries read. ──
  const c = replica({ v2 }, "v2");
  started.push(c);
  await c.start();
  const qc = c.context().document.query(patients);
  await qc.get(cid);
  await qc.get(ann.id);
  await c.settled(); // Ann's refill lands right behind the read
  console.log(
    `\nC (keyring v2 only) get(Cy) → L2 hit; get(Ann) → miss (unknownKey=${sealing(c).unknownKey}), refilled with v2`,
  );
  check(sealing(c).unknownKey === 1 && l2(c).hits === 1, "retiring v1 did not turn its entries into misses");
  await qc.get(ann.id);
  check(l2(c).hits === 2, "the refilled entry did not read back");
  console.log(`C get(Ann) again → L2 hit (hits=${l2(c).hits})`);

  for (const [name, runtime] of [
    ["A", a],
    ["B", b],
    ["C", c],
  ] as const) {
    console.log(`sealing stats of ${name}: ${JSON.stringify(sealing(runtime))}`);
  }
} finally {
  for (const runtime of started.reverse()) await runtime.stop();
  raw?.disconnect();
  await engines.cleanUp();
}

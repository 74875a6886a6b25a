/**
 * Key/value: the raw port of a cache, `ctx.cache(spec.cache | name)`, for data that is not a document — sessions,
 * rate-limit counters, feature flags, small blobs. Values are JSON or raw bytes, each entry has its own lifetime,
 * and bad input is refused with a typed error before anything is written. Run with `just run` (or
 * `npx tsx examples/recipes/key-value/app.ts` from the repository root).
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import type { Duration } from "../../../src/index.js";
import { ConfigurationError, createRuntime, defineDocument, StrataError, ValidationError } from "../../../src/index.js";
import { pickEngines, runTable } from "../shared/engines.js";

/** A document with a cache spec: `ctx.cache(users.cache)` stores next to its entries, with the spec's ttl. */
export const users = defineDocument({
  name: "users",
  fields: z.object({ email: z.string() }),
  cache: { ttl: "10m" },
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`key-value recipe: ${message}`);
}

/** How a value looks when printed: JSON, or the bytes of a Uint8Array. */
function show(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length}) [${[...value].join(", ")}]`;
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  return value === undefined ? "undefined" : JSON.stringify(value);
}

const line = (call: string, result: string) => console.log(`${call.padEnd(74)} → ${result}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const engines = await pickEngines();
console.log(`engines: ${engines.postgres}; ${engines.redis}`);

const prefix = `recipes:key-value:${process.pid}`;
const runtime = createRuntime({
  modules: engines.modules({
    // A runtime always has a postgresModule, which routes at least one document.
    documents: { users: { table: runTable("recipe_key_value_users") } },
    caches: {
      users: { namespace: `${prefix}:users` },
      sessions: { namespace: `${prefix}:sessions` },
      rate_limits: { namespace: `${prefix}:rate-limits` },
      flags: { namespace: `${prefix}:flags` },
    },
  }),
});
try {
  await runtime.start();
  const ctx = runtime.context();
  for (const [name, cache] of Object.entries(runtime.stats().caches)) {
    console.log(
      `cache ${name.padEnd(11)} backend=${cache.backend}  namespace=${cache.namespace}  (kv keys under …:kv:)`,
    );
  }

  // ── Sessions: JSON values, per-entry ttl, getMany, exists, delete. ──
  console.log('\n── sessions: ctx.cache("sessions") (a name: default ttl 5m) ──');
  const sessions = ctx.cache("sessions");
  const ada = { userId: 42, roles: ["admin"], csrf: "c9f1" };
  const bo = { userId: 43, roles: [], csrf: "77aa" };
  await sessions.set("sess:7f3a", ada, { ttl: "30m" });
  line(`sessions.set("sess:7f3a", { userId: 42, … }, { ttl: "30m" })`, "stored");
  await sessions.set("sess:9c1d", bo);
  line(`sessions.set("sess:9c1d", { userId: 43, … })`, "stored (no ttl given: 5m)");
  const got = await sessions.get<typeof ada>("sess:7f3a");
  line(`sessions.get("sess:7f3a")`, show(got));
  check(isDeepStrictEqual(got, ada), "get did not return what was set");
  const many = await sessions.getMany(["sess:7f3a", "sess:gone", "sess:9c1d"]);
  line(`sessions.getMany(["sess:7f3a", "sess:gone", "sess:9c1d"])`, show(many.map((s) => (s as typeof ada)?.userId)));
  check(isDeepStrictEqual(many, [ada, undefined, bo]), "getMany did not answer in order, undefined for the absent");
  const present = [await sessions.exists("sess:7f3a"), await sessions.exists("sess:gone")];
  line(`sessions.exists("sess:7f3a"), exists("sess:gone")`, show(present));
  check(isDeepStrictEqual(present, [true, false]), "exists is wrong");
  const deleted = [await sessions.delete("sess:9c1d"), await sessions.delete("sess:9c1d")];
  line(`sessions.delete("sess:9c1d") twice`, `${show(deleted)} (whether it existed)`);
  check(isDeepStrictEqual(deleted, [true, false]), "delete did not report whether the key existed");
  check((await sessions.get("sess:9c1d")) === undefined, "a deleted key is still served");

  // ── Feature flags: a batch with one ttl, read back in one round trip, removed in one. ──
  console.log('\n── feature flags: ctx.cache("flags") ──');
  const flags = ctx.cache("flags");
  const flagValues: Array<[string, unknown]> = [
    ["checkout_v2", true],
    ["banner", { enabled: true, rollout: 0.25 }],
    ["max_upload_mb", 50],
  ];
  await flags.setMany(flagValues, { ttl: "1h" });
  line(`flags.setMany([checkout_v2, banner, max_upload_mb], { ttl: "1h" })`, "stored");
  const flagRead = await flags.getMany(["checkout_v2", "banner", "max_upload_mb", "dark_mode"]);
  line(`flags.getMany([checkout_v2, banner, max_upload_mb, dark_mode])`, show(flagRead));
  check(isDeepStrictEqual(flagRead, [...flagValues.map(([, v]) => v), undefined]), "flags did not round-trip");
  const removed = await flags.deleteMany(["checkout_v2", "banner", "dark_mode"]);
  line(`flags.deleteMany([checkout_v2, banner, dark_mode])`, `${removed} (how many existed)`);
  check(removed === 2, `deleteMany removed ${removed}, expected 2`);

  // ── Bytes vs JSON, on the port of a document's cache (its spec's ttl, keys apart from the documents). ──
  console.log("\n── bytes vs JSON: ctx.cache(users.cache) (a spec: its ttl, 10m) ──");
  const perUser = ctx.cache(users.cache!);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
  await perUser.set("avatar:42", png);
  const bytes = await perUser.get("avatar:42");
  line(`perUser.set("avatar:42", Uint8Array), get`, `${show(bytes)} — bytes stay bytes`);
  check(bytes instanceof Uint8Array && Buffer.compare(Buffer.from(bytes), Buffer.from(png)) === 0, "bytes changed");
  await perUser.set("avatar:43", Buffer.from("GIF89a"));
  const fromBuffer = await perUser.get("avatar:43");
  line(`perUser.set("avatar:43", Buffer.from("GIF89a")), get`, `${show(fromBuffer)} — a Uint8Array, not a Buffer`);
  check(fromBuffer instanceof Uint8Array && !Buffer.isBuffer(fromBuffer), "a Buffer came back as a Buffer");
  const prefs = { theme: "dark", seenAt: new Date(0) };
  await perUser.set("prefs:42", prefs);
  const prefsBack = await perUser.get<{ theme: string; seenAt: unknown }>("prefs:42");
  line(`perUser.set("prefs:42", { theme, seenAt: new Date(0) }), get`, `${show(prefsBack)} — JSON rules`);
  check(prefsBack?.seenAt === "1970-01-01T00:00:00.000Z", "a Date did not come back as its JSON string");
  await perUser.set("note:42", "a JSON string");
  check((await perUser.get("note:42")) === "a JSON string", "a string did not round-trip");

  // ── Rate limits: a counter that lives 1 s past the last request; its expiry observed in real time. ──
  console.log('\n── rate limits: ctx.cache("rate_limits"), 3 requests per burst, reset after 1 s of quiet ──');
  const limits = ctx.cache("rate_limits");
  const LIMIT = 3;
  const request = async (ip: string): Promise<string> => {
    // Read-modify-write: fine for one process; across replicas two requests can read the same count (see README).
    const count = ((await limits.get<number>(`rl:${ip}`)) ?? 0) + 1;
    await limits.set(`rl:${ip}`, count, { ttl: "1s" });
    return count <= LIMIT ? `allowed (count ${count})` : `refused (count ${count})`;
  };
  const burst: string[] = [];
  for (let i = 0; i < 5; i++) burst.push(await request("203.0.113.7"));
  line(`5 requests from 203.0.113.7, limits.set(…, { ttl: "1s" }) each`, burst.map((r) => r.split(" ")[0]).join(", "));
  check(burst.filter((r) => r.startsWith("allowed")).length === LIMIT, "the limiter let the wrong number through");
  check(await limits.exists("rl:203.0.113.7"), "the counter is missing right after the burst");
  const started = performance.now();
  await sleep(1_100);
  const waited = ((performance.now() - started) / 1000).toFixed(1);
  const afterWait = [await limits.exists("rl:203.0.113.7"), await limits.get("rl:203.0.113.7")];
  line(`after ${waited} s: limits.exists("rl:203.0.113.7"), get`, `${show(afterWait)} — expired`);
  check(isDeepStrictEqual(afterWait, [false, undefined]), "the 1 s counter outlived its ttl");
  const longLived = await sessions.get("sess:7f3a");
  line(`meanwhile sessions.get("sess:7f3a") (ttl 30m)`, `${show((longLived as typeof ada)?.userId)} — still there`);
  check(isDeepStrictEqual(longLived, ada), "the 30m session expired with the 1s counter");
  const again = await request("203.0.113.7");
  line(`request from 203.0.113.7 again`, again);
  check(again === "allowed (count 1)", "the counter did not start over after expiry");

  // ── Bad input: a typed error, and nothing written. ──
  console.log("\n── bad input is refused whole ──");
  const refusal = async (call: string, attempt: () => Promise<unknown>, written?: () => Promise<boolean>) => {
    let error: unknown;
    try {
      await attempt();
    } catch (caught) {
      error = caught;
    }
    check(error instanceof StrataError, `${call} did not throw a StrataError (${String(error)})`);
    const e = error as StrataError;
    const wrote = written === undefined ? false : await written();
    line(call, `${e.constructor.name} code=${e.code}: ${e.message}${written ? `; written: ${wrote}` : ""}`);
    check(!wrote, `${call} wrote something before refusing`);
    return e;
  };
  // `"5 minutes"` does not type-check as a Duration; from a JSON config file it would arrive all the same.
  const badTtl = await refusal(
    `sessions.set("sess:new", …, { ttl: "5 minutes" })`,
    () => sessions.set("sess:new", ada, { ttl: "5 minutes" as Duration }),
    () => sessions.exists("sess:new"),
  );
  check(badTtl instanceof ConfigurationError && badTtl.path === "ttl", "a bad ttl is not a ConfigurationError at ttl");
  const badValue = await refusal(
    `flags.setMany([["a", 1], ["b", 10n]])`,
    () =>
      flags.setMany([
        ["a", 1],
        ["b", 10n],
      ]),
    async () => (await flags.getMany(["a", "b"])).some((v) => v !== undefined),
  );
  check(badValue instanceof ValidationError && badValue.code === "VALIDATION", "a BigInt is not a ValidationError");
  const noRoute = await refusal(`ctx.cache("carts")`, async () => ctx.cache("carts"));
  check(noRoute instanceof ConfigurationError && noRoute.path === "caches.carts", "an unrouted cache was accepted");

  const cleaned =
    (await sessions.deleteMany(["sess:7f3a"])) +
    (await flags.deleteMany(["max_upload_mb"])) +
    (await perUser.deleteMany(["avatar:42", "avatar:43", "prefs:42", "note:42"])) +
    (await limits.deleteMany(["rl:203.0.113.7"]));
  console.log(`\ncleanup: deleteMany removed ${cleaned} keys`);
} finally {
  await runtime.stop();
  await engines.cleanUp(); // nothing left on your servers: the tables and keys this run created
}

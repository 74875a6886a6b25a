/**
 * Coordination across processes and through faults:
 * - 52 contenders in 4 processes (13 each) on one lock (Redis, and the Postgres cache table): a counter updated by a read and a
 *   write under the lock ends exact, and fencing tokens strictly increase in the order the writes happened;
 * - Redis restarted (no persistence) while a lock is held: the documented outcome — the lock is gone, another owner
 *   gets it with a greater fencing token, and the first holder learns it lost the lock on its next call;
 * - the Postgres cache store cut off behind a TCP proxy: every key/value, lock and rate-limit call rejects with
 *   UnavailableError("postgres"), a batch write is all or nothing, and everything works once the link is back.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinationStores } from "../../src/coordination/cache-coordination.js";
import { CacheCoordination } from "../../src/coordination/cache-coordination.js";
import { RedisCoordination } from "../../src/coordination/redis/redis-coordination.js";
import { systemClock } from "../../src/kernel/clock.js";
import { LockLostError, UnavailableError } from "../../src/kernel/errors.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import { postgresCacheModule } from "../../src/runtime/modules/postgres-cache-module.js";
import type { CoordinationKind } from "../support/coordination-backends.js";
import { startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";
import { proxiedUrl, proxyTo } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true, redis: true, privateRedis: true });
const contenderScript = join(dirname(fileURLToPath(import.meta.url)), "../support/lock-contenders.ts");

interface Contenders {
  readonly ready: Promise<void>;
  go(): void;
  readonly done: Promise<{ done: number }>;
}

function spawnContenders(job: Record<string, unknown>): Contenders {
  const child = spawn(process.execPath, ["--import", "tsx", contenderScript], {
    env: { ...process.env, LOCK_CONTENDERS: JSON.stringify(job) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve) => lines.once("line", () => resolve()));
  const done = new Promise<{ done: number }>((resolve, reject) => {
    let last = "";
    lines.on("line", (line) => (last = line));
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(last) as { done: number });
      else reject(new Error(`contender process exited with ${code}`));
    });
  });
  return { ready, go: () => child.stdin.write("go\n"), done };
}

describe.skipIf(env.skip)("coordination across processes and faults", () => {
  let db: pg.Pool;

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: env.postgres!.url, max: 4 });
    await db.query("CREATE TABLE lock_counter (name text PRIMARY KEY, n int NOT NULL)");
    await db.query("CREATE TABLE lock_log (name text, n int, token bigint NOT NULL, PRIMARY KEY (name, n))");
  });
  afterAll(async () => {
    await db?.end();
  });

  it("52 contenders in 4 processes, on Redis and on Postgres: the counter ends exact and fencing tokens follow the order of the writes", async () => {
    const key = `counter-${randomUUID().slice(0, 6)}`;
    const kinds: CoordinationKind[] = ["redis", "postgres"];
    for (const kind of kinds) await db.query("INSERT INTO lock_counter (name, n) VALUES ($1, 0)", [`${key}-${kind}`]);
    const job = {
      kinds,
      redisUrl: env.redisUrl,
      databaseUrl: env.postgres!.url,
      namespace: `co4:${randomUUID().slice(0, 8)}`,
      key,
      count: 13,
    };
    const processes = [1, 2, 3, 4].map(() => spawnContenders(job));
    await Promise.all(processes.map((p) => p.ready));
    for (const p of processes) p.go();
    const results = await Promise.all(processes.map((p) => p.done));
    expect(results.map((r) => r.done)).toEqual([26, 26, 26, 26]);
    for (const kind of kinds) {
      const name = `${key}-${kind}`;
      const { rows } = await db.query<{ n: number }>("SELECT n FROM lock_counter WHERE name = $1", [name]);
      expect(rows[0]!.n, kind).toBe(52);
      const log = await db.query<{ n: number; token: string }>(
        "SELECT n, token FROM lock_log WHERE name = $1 ORDER BY n",
        [name],
      );
      expect(log.rows.map((r) => r.n)).toEqual(Array.from({ length: 52 }, (_, i) => i + 1));
      const tokens = log.rows.map((r) => BigInt(r.token));
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]! > tokens[i - 1]!, kind).toBe(true);
    }
  }, 90_000);

  it("Redis restarted while a lock is held: the lock is gone, the next owner's token is greater, the holder learns it", async () => {
    const server = await startRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on("error", () => {});
    try {
      const api = new CacheCoordination(new RedisCoordination(client, "restart", 2_000), systemClock);
      let lost: LockLostError | undefined;
      const holder = api.lock("job", { ttl: "60s", onLost: (error) => (lost = error) });
      expect(await holder.acquire()).toBe(true);
      const before = holder.fencingToken!;
      await server.restart(); // no RDB, no AOF: the lock and its fence counter are gone
      const next = api.lock("job", { ttl: "60s" });
      expect(await next.acquire({ wait: "10s", retry: { initial: 20, max: 100 } })).toBe(true);
      // The counter restarted from nothing, but tokens are floored at the server clock in µs: still greater.
      expect(next.fencingToken).toBeGreaterThan(before);
      expect(lost).toBeUndefined(); // nothing told the holder yet: a restart is silent until it asks
      expect(await holder.isHeld()).toBe(false);
      expect(lost).toBeInstanceOf(LockLostError);
      expect(holder.signal?.aborted).toBe(true);
      expect(await holder.release()).toBe(false); // and it cannot free the new owner's lock
      expect(await next.isHeld()).toBe(true);
      await next.release();
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  describe("the Postgres cache store cut off", () => {
    let backend: CacheBackend;
    let coordination: CoordinationStores;
    let proxy: Awaited<ReturnType<typeof proxyTo>>;

    beforeAll(async () => {
      proxy = await proxyTo(env.postgres!.url);
      const opened = await postgresCacheModule({
        url: proxiedUrl(env.postgres!.url, proxy),
        caches: { cut: { namespace: `cut:${randomUUID().slice(0, 6)}` } },
        queryTimeoutMs: 500,
      }).open({ logger: silentLogger, clock: systemClock });
      backend = opened.backend;
      coordination = opened.coordination!("cut")!;
    });
    afterAll(async () => {
      proxy?.restore();
      await backend?.close();
      await proxy?.close();
    });

    it("rejects every call with UnavailableError(postgres), writes a batch all or nothing, and recovers", async () => {
      const kv = backend.namespace("cut")!.kv(60_000);
      const api = new CacheCoordination(coordination, systemClock);
      await kv.set("before", 1);
      const lock = api.lock("l", { ttl: "30s" });
      proxy.cut();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["get", () => kv.get("before")],
        ["set", () => kv.set("k", 1)],
        [
          "setMany",
          () =>
            kv.setMany([
              ["a", 1],
              ["b", 2],
              ["c", 3],
            ]),
        ],
        ["delete", () => kv.delete("before")],
        ["acquire", () => lock.acquire()],
        ["rateLimit", () => api.rateLimit("r", { limit: 5, window: "1m" })],
      ];
      for (const [name, call] of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, name).toBeInstanceOf(UnavailableError);
        expect((error as UnavailableError).dependency, name).toBe("postgres");
      }
      // A batch whose reply is lost: it ran entirely or not at all. (A live pooled connection first, so the batch
      // is sent and times out on the statement, not on connecting.)
      proxy.restore();
      expect(await kv.get("before")).toBe(1);
      proxy.blackhole();
      await expect(
        kv.setMany([
          ["x", 1],
          ["y", 2],
          ["z", 3],
        ]),
      ).rejects.toBeInstanceOf(UnavailableError);
      proxy.restore();
      const batch = await kv.getMany(["x", "y", "z"]);
      expect([
        [1, 2, 3],
        [undefined, undefined, undefined],
      ]).toContainEqual(batch);
      expect(await kv.getMany(["a", "b", "c"])).toEqual([undefined, undefined, undefined]);
      expect(await kv.get("before")).toBe(1);
      expect(await lock.acquire()).toBe(true);
      expect((await api.rateLimit("r", { limit: 5, window: "1m" })).remaining).toBe(4);
      await lock.release();
    });
  });
});
